//! GetSqlInfo: what the server is and what its SQL supports, answered honestly for
//! DataFusion's dialect (JDBC reads all of it at connect; Superset reads the name, the arrow
//! version, read-only and the identifier quote). Function lists come from the registered
//! functions' documentation sections.

use std::collections::BTreeSet;

use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::{
    SqlInfo, SqlNullOrdering, SqlOuterJoinsSupportLevel, SqlSupportedCaseSensitivity,
    SqlSupportedTransaction,
};
use datafusion::execution::session_state::SessionState;
use datafusion::sql::sqlparser::keywords::ALL_KEYWORDS;

/// The arrow-rs major version the server is built with.
const ARROW_VERSION: &str = "59";

fn bits(positions: &[i32]) -> i32 {
    positions.iter().fold(0, |acc, p| acc | (1 << p))
}

/// Function names by kind, from the documentation sections of the registered functions.
fn functions(state: &SessionState) -> [Vec<String>; 4] {
    let mut numeric = BTreeSet::new();
    let mut string = BTreeSet::new();
    let mut datetime = BTreeSet::new();
    let mut system = BTreeSet::new();
    for (name, udf) in state.scalar_functions() {
        let section = udf
            .documentation()
            .map(|d| d.doc_section.label.to_lowercase())
            .unwrap_or_default();
        let target = if section.contains("math") {
            &mut numeric
        } else if section.contains("string") || section.contains("regular expression") {
            &mut string
        } else if section.contains("time") || section.contains("date") {
            &mut datetime
        } else {
            &mut system
        };
        target.insert(name.clone());
    }
    [numeric, string, datetime, system].map(|s| s.into_iter().collect())
}

/// The SqlInfo set of a server with this state.
pub fn build(state: &SessionState, read_only: bool, timeout_secs: u64) -> SqlInfoData {
    let mut b = SqlInfoDataBuilder::new();
    b.append(SqlInfo::FlightSqlServerName, "c360");
    b.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    b.append(SqlInfo::FlightSqlServerArrowVersion, ARROW_VERSION);
    b.append(SqlInfo::FlightSqlServerReadOnly, read_only);
    b.append(SqlInfo::FlightSqlServerSql, true);
    b.append(SqlInfo::FlightSqlServerSubstrait, false);
    b.append(
        SqlInfo::FlightSqlServerTransaction,
        SqlSupportedTransaction::None as i32,
    );
    b.append(SqlInfo::FlightSqlServerCancel, true);
    b.append(SqlInfo::FlightSqlServerBulkIngestion, false);
    b.append(SqlInfo::FlightSqlServerIngestTransactionsSupported, false);
    b.append(
        SqlInfo::FlightSqlServerStatementTimeout,
        i32::try_from(timeout_secs).unwrap_or(i32::MAX),
    );
    b.append(SqlInfo::FlightSqlServerTransactionTimeout, 0i32);
    b.append(SqlInfo::SqlDdlCatalog, false);
    b.append(SqlInfo::SqlDdlSchema, !read_only);
    b.append(SqlInfo::SqlDdlTable, !read_only);
    b.append(
        SqlInfo::SqlIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityLowercase as i32,
    );
    b.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    b.append(
        SqlInfo::SqlQuotedIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityCaseInsensitive as i32,
    );
    b.append(SqlInfo::SqlAllTablesAreSelectable, true);
    b.append(
        SqlInfo::SqlNullOrdering,
        SqlNullOrdering::SqlNullsSortedHigh as i32,
    );
    let keywords: Vec<String> = ALL_KEYWORDS.iter().map(|k| k.to_string()).collect();
    b.append(SqlInfo::SqlKeywords, keywords);
    let [numeric, string, datetime, system] = functions(state);
    b.append(SqlInfo::SqlNumericFunctions, numeric);
    b.append(SqlInfo::SqlStringFunctions, string);
    b.append(SqlInfo::SqlDatetimeFunctions, datetime);
    b.append(SqlInfo::SqlSystemFunctions, system);
    b.append(SqlInfo::SqlSearchStringEscape, "\\");
    b.append(SqlInfo::SqlExtraNameCharacters, "");
    b.append(SqlInfo::SqlSupportsColumnAliasing, true);
    b.append(SqlInfo::SqlNullPlusNullIsNull, true);
    b.append(SqlInfo::SqlSupportsTableCorrelationNames, true);
    b.append(SqlInfo::SqlSupportsDifferentTableCorrelationNames, false);
    b.append(SqlInfo::SqlSupportsExpressionsInOrderBy, true);
    b.append(SqlInfo::SqlSupportsOrderByUnrelated, true);
    // GROUP BY unrelated columns and beyond the select list.
    b.append(SqlInfo::SqlSupportedGroupBy, bits(&[0, 1]));
    b.append(SqlInfo::SqlSupportsLikeEscapeClause, true);
    b.append(SqlInfo::SqlSupportsNonNullableColumns, true);
    // Minimum and core grammar; ANSI-92 entry level.
    b.append(SqlInfo::SqlSupportedGrammar, bits(&[0, 1]));
    b.append(SqlInfo::SqlAnsi92SupportedLevel, bits(&[0]));
    b.append(SqlInfo::SqlSupportsIntegrityEnhancementFacility, false);
    b.append(
        SqlInfo::SqlOuterJoinsSupportLevel,
        SqlOuterJoinsSupportLevel::SqlFullOuterJoins as i32,
    );
    b.append(SqlInfo::SqlSchemaTerm, "schema");
    b.append(SqlInfo::SqlProcedureTerm, "procedure");
    b.append(SqlInfo::SqlCatalogTerm, "catalog");
    b.append(SqlInfo::SqlCatalogAtStart, true);
    b.append(SqlInfo::SqlSchemasSupportedActions, 0i32);
    b.append(SqlInfo::SqlCatalogsSupportedActions, 0i32);
    b.append(SqlInfo::SqlSupportedPositionedCommands, 0i32);
    b.append(SqlInfo::SqlSelectForUpdateSupported, false);
    b.append(SqlInfo::SqlStoredProceduresSupported, false);
    // Subqueries in comparisons, EXISTS, IN and quantified comparisons.
    b.append(SqlInfo::SqlSupportedSubqueries, bits(&[0, 1, 2, 3]));
    b.append(SqlInfo::SqlCorrelatedSubqueriesSupported, true);
    // UNION and UNION ALL.
    b.append(SqlInfo::SqlSupportedUnions, bits(&[0, 1]));
    for limit in [
        SqlInfo::SqlMaxBinaryLiteralLength,
        SqlInfo::SqlMaxCharLiteralLength,
        SqlInfo::SqlMaxColumnNameLength,
        SqlInfo::SqlMaxColumnsInGroupBy,
        SqlInfo::SqlMaxColumnsInIndex,
        SqlInfo::SqlMaxColumnsInOrderBy,
        SqlInfo::SqlMaxColumnsInSelect,
        SqlInfo::SqlMaxColumnsInTable,
        SqlInfo::SqlMaxConnections,
        SqlInfo::SqlMaxCursorNameLength,
        SqlInfo::SqlMaxIndexLength,
        SqlInfo::SqlDbSchemaNameLength,
        SqlInfo::SqlMaxProcedureNameLength,
        SqlInfo::SqlMaxCatalogNameLength,
        SqlInfo::SqlMaxRowSize,
        SqlInfo::SqlMaxStatementLength,
        SqlInfo::SqlMaxStatements,
        SqlInfo::SqlMaxTableNameLength,
        SqlInfo::SqlMaxTablesInSelect,
        SqlInfo::SqlMaxUsernameLength,
    ] {
        // 0: no limit known.
        b.append(limit, 0i64);
    }
    b.append(SqlInfo::SqlMaxRowSizeIncludesBlobs, false);
    b.append(SqlInfo::SqlDefaultTransactionIsolation, 0i64);
    b.append(SqlInfo::SqlTransactionsSupported, false);
    b.append(SqlInfo::SqlSupportedTransactionsIsolationLevels, 0i32);
    b.append(SqlInfo::SqlDataDefinitionCausesTransactionCommit, false);
    b.append(SqlInfo::SqlDataDefinitionsInTransactionsIgnored, false);
    // Forward-only result sets, read-only concurrency.
    b.append(SqlInfo::SqlSupportedResultSetTypes, bits(&[1]));
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetUnspecified,
        0i32,
    );
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetForwardOnly,
        bits(&[1]),
    );
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetScrollSensitive,
        0i32,
    );
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetScrollInsensitive,
        0i32,
    );
    b.append(SqlInfo::SqlBatchUpdatesSupported, false);
    b.append(SqlInfo::SqlSavepointsSupported, false);
    b.append(SqlInfo::SqlNamedParametersSupported, false);
    b.append(SqlInfo::SqlLocatorsUpdateCopy, false);
    b.append(SqlInfo::SqlStoredFunctionsUsingCallSyntaxSupported, false);
    b.build()
        .expect("the SqlInfo values have the types their ids require")
}
