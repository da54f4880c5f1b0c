//! Catalog browsing: GetCatalogs, GetDbSchemas, GetTables (every catalog when none is given,
//! table schemas with the Flight SQL column metadata), GetTableTypes, GetPrimaryKeys and
//! GetXdbcTypeInfo, read from the engine's catalogs.

use std::sync::Arc;

use arrow_flight::sql::metadata::{XdbcTypeInfo, XdbcTypeInfoData, XdbcTypeInfoDataBuilder};
use arrow_flight::sql::{
    CommandGetCatalogs, CommandGetDbSchemas, CommandGetPrimaryKeys, CommandGetTables, Nullable,
    Searchable, XdbcDataType,
};
use datafusion::arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::Constraint;
use datafusion::datasource::TableType;
use datafusion::prelude::SessionContext;
use tonic::Status;

/// The table types the server reports.
pub const TABLE_TYPES: [&str; 2] = ["TABLE", "VIEW"];

fn type_name(table_type: TableType) -> &'static str {
    match table_type {
        TableType::Base | TableType::Temporary => "TABLE",
        TableType::View => "VIEW",
    }
}

fn arrow_error(e: impl std::fmt::Display) -> Status {
    Status::internal(format!("building a metadata result: {e}"))
}

/// GetCatalogs.
pub fn catalogs(ctx: &SessionContext, command: CommandGetCatalogs) -> Result<RecordBatch, Status> {
    let mut builder = command.into_builder();
    let mut names = ctx.catalog_names();
    names.sort();
    for name in names {
        builder.append(name);
    }
    builder.build().map_err(arrow_error)
}

/// GetDbSchemas (all catalogs when the command names none).
pub fn schemas(ctx: &SessionContext, command: CommandGetDbSchemas) -> Result<RecordBatch, Status> {
    let mut builder = command.into_builder();
    for (catalog, schema) in schema_names(ctx) {
        builder.append(catalog, schema);
    }
    builder.build().map_err(arrow_error)
}

fn schema_names(ctx: &SessionContext) -> Vec<(String, String)> {
    let mut names = Vec::new();
    let mut catalogs = ctx.catalog_names();
    catalogs.sort();
    for catalog in catalogs {
        if let Some(provider) = ctx.catalog(&catalog) {
            let mut schemas = provider.schema_names();
            schemas.sort();
            names.extend(schemas.into_iter().map(|s| (catalog.clone(), s)));
        }
    }
    names
}

/// GetTables; with `include_schema` each table's Arrow schema, its fields carrying the
/// Flight SQL column metadata (catalog, schema, table, SQL type name...).
pub async fn tables(
    ctx: &SessionContext,
    command: CommandGetTables,
) -> Result<RecordBatch, Status> {
    let include_schema = command.include_schema;
    let catalog_filter = command.catalog.clone();
    let mut builder = command.into_builder();
    for (catalog, schema) in schema_names(ctx) {
        if catalog_filter.as_ref().is_some_and(|c| *c != catalog) {
            continue;
        }
        let Some(provider) = ctx.catalog(&catalog).and_then(|c| c.schema(&schema)) else {
            continue;
        };
        let mut names = provider.table_names();
        names.sort();
        for name in names {
            let table = match provider.table(&name).await {
                Ok(Some(table)) => table,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(table = %name, error = %e, "table skipped in GetTables");
                    continue;
                }
            };
            let table_schema = if include_schema {
                let wire = super::query::wire_schema(&table.schema());
                with_column_metadata(&wire, &catalog, &schema, &name)
            } else {
                Schema::empty()
            };
            builder
                .append(
                    &catalog,
                    &schema,
                    &name,
                    type_name(table.table_type()),
                    &table_schema,
                )
                .map_err(arrow_error)?;
        }
    }
    builder.build().map_err(arrow_error)
}

/// The schema with the `ARROW:FLIGHT:SQL:*` metadata on each field.
pub fn with_column_metadata(schema: &SchemaRef, catalog: &str, db: &str, table: &str) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|field| {
            let mut metadata = field.metadata().clone();
            let mut put = |key: &str, value: String| {
                metadata.insert(format!("ARROW:FLIGHT:SQL:{key}"), value);
            };
            put("CATALOG_NAME", catalog.to_string());
            put("SCHEMA_NAME", db.to_string());
            put("TABLE_NAME", table.to_string());
            put("TYPE_NAME", sql_type_name(field.data_type()).to_string());
            if let Some((precision, scale)) = precision_scale(field.data_type()) {
                put("PRECISION", precision.to_string());
                put("SCALE", scale.to_string());
            }
            put("IS_AUTO_INCREMENT", "0".to_string());
            put(
                "IS_CASE_SENSITIVE",
                u8::from(is_text(field.data_type())).to_string(),
            );
            put("IS_READ_ONLY", "1".to_string());
            put("IS_SEARCHABLE", "1".to_string());
            field.as_ref().clone().with_metadata(metadata)
        })
        .collect();
    Schema::new(fields).with_metadata(schema.metadata().clone())
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn precision_scale(t: &DataType) -> Option<(u8, i8)> {
    match t {
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => Some((*p, *s)),
        _ => None,
    }
}

/// The SQL name of an Arrow type, as DataFusion's SQL spells it.
pub fn sql_type_name(t: &DataType) -> &'static str {
    match t {
        DataType::Boolean => "BOOLEAN",
        DataType::Int8 => "TINYINT",
        DataType::Int16 => "SMALLINT",
        DataType::Int32 => "INTEGER",
        DataType::Int64 => "BIGINT",
        DataType::UInt8 => "TINYINT UNSIGNED",
        DataType::UInt16 => "SMALLINT UNSIGNED",
        DataType::UInt32 => "INTEGER UNSIGNED",
        DataType::UInt64 => "BIGINT UNSIGNED",
        DataType::Float16 | DataType::Float32 => "REAL",
        DataType::Float64 => "DOUBLE",
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "VARCHAR",
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "BYTEA",
        DataType::Date32 | DataType::Date64 => "DATE",
        DataType::Time32(_) | DataType::Time64(_) => "TIME",
        DataType::Timestamp(_, None) => "TIMESTAMP",
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP WITH TIME ZONE",
        DataType::Interval(_) | DataType::Duration(_) => "INTERVAL",
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => "DECIMAL",
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::FixedSizeList(..) => "ARRAY",
        DataType::Struct(_) => "STRUCT",
        DataType::Map(..) => "MAP",
        DataType::Dictionary(_, value) => sql_type_name(value),
        DataType::RunEndEncoded(_, value) => sql_type_name(value.data_type()),
        DataType::Union(..) => "UNION",
        DataType::Null => "NULL",
    }
}

/// GetPrimaryKeys: the primary-key constraint of the table, if it declares one.
pub async fn primary_keys(
    ctx: &SessionContext,
    command: CommandGetPrimaryKeys,
) -> Result<RecordBatch, Status> {
    let schema = primary_keys_schema();
    let state = ctx.state();
    let options = state.config().options();
    let catalog = command
        .catalog
        .clone()
        .unwrap_or_else(|| options.catalog.default_catalog.clone());
    let db = command
        .db_schema
        .clone()
        .unwrap_or_else(|| options.catalog.default_schema.clone());
    let table_name = command.table;
    let mut rows: Vec<(String, i32)> = Vec::new();
    let provider = ctx.catalog(&catalog).and_then(|c| c.schema(&db));
    let table = match provider {
        Some(provider) => provider.table(&table_name).await.ok().flatten(),
        None => None,
    };
    if let Some(table) = table
        && let Some(constraints) = table.constraints()
    {
        let table_schema = table.schema();
        for constraint in constraints.iter() {
            if let Constraint::PrimaryKey(indices) = constraint {
                for (seq, index) in indices.iter().enumerate() {
                    if let Some(field) = table_schema.fields().get(*index) {
                        rows.push((field.name().clone(), seq as i32 + 1));
                    }
                }
            }
        }
    }
    let n = rows.len();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![Some(catalog.clone()); n])),
        Arc::new(StringArray::from(vec![Some(db.clone()); n])),
        Arc::new(StringArray::from(vec![table_name; n])),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.0))),
        Arc::new(StringArray::from(vec![None::<String>; n])),
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.1))),
    ];
    RecordBatch::try_new(schema, columns).map_err(arrow_error)
}

/// The schema of a GetPrimaryKeys result.
pub fn primary_keys_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("catalog_name", DataType::Utf8, true),
        Field::new("db_schema_name", DataType::Utf8, true),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("key_name", DataType::Utf8, true),
        Field::new("key_sequence", DataType::Int32, false),
    ]))
}

/// The types a client may use in SQL, for GetXdbcTypeInfo.
pub fn xdbc_types() -> XdbcTypeInfoData {
    let mut builder = XdbcTypeInfoDataBuilder::new();
    // (name, type, column size, case sensitive, literal prefix)
    type Row<'a> = (&'a str, XdbcDataType, Option<i32>, bool, Option<&'a str>);
    let types: [Row; 13] = [
        ("BOOLEAN", XdbcDataType::XdbcBit, Some(1), false, None),
        ("TINYINT", XdbcDataType::XdbcTinyint, Some(3), false, None),
        ("SMALLINT", XdbcDataType::XdbcSmallint, Some(5), false, None),
        ("INTEGER", XdbcDataType::XdbcInteger, Some(10), false, None),
        ("BIGINT", XdbcDataType::XdbcBigint, Some(19), false, None),
        ("REAL", XdbcDataType::XdbcReal, Some(7), false, None),
        ("DOUBLE", XdbcDataType::XdbcDouble, Some(15), false, None),
        ("DECIMAL", XdbcDataType::XdbcDecimal, Some(38), false, None),
        ("VARCHAR", XdbcDataType::XdbcVarchar, None, true, Some("'")),
        ("BYTEA", XdbcDataType::XdbcVarbinary, None, false, None),
        (
            "DATE",
            XdbcDataType::XdbcDate,
            Some(10),
            false,
            Some("DATE '"),
        ),
        (
            "TIME",
            XdbcDataType::XdbcTime,
            Some(15),
            false,
            Some("TIME '"),
        ),
        (
            "TIMESTAMP",
            XdbcDataType::XdbcTimestamp,
            Some(26),
            false,
            Some("TIMESTAMP '"),
        ),
    ];
    for (name, data_type, size, case_sensitive, prefix) in types {
        let numeric = size.is_some() && prefix.is_none() && name != "BOOLEAN";
        builder.append(XdbcTypeInfo {
            type_name: name.to_string(),
            data_type,
            column_size: size,
            literal_prefix: prefix.map(str::to_string),
            literal_suffix: prefix.map(|_| "'".to_string()),
            create_params: (name == "DECIMAL")
                .then(|| vec!["precision".to_string(), "scale".to_string()]),
            nullable: Nullable::NullabilityNullable,
            case_sensitive,
            searchable: Searchable::Full,
            unsigned_attribute: numeric.then_some(false),
            fixed_prec_scale: false,
            auto_increment: numeric.then_some(false),
            local_type_name: Some(name.to_string()),
            minimum_scale: (name == "DECIMAL").then_some(0),
            maximum_scale: (name == "DECIMAL").then_some(38),
            sql_data_type: data_type,
            datetime_subcode: None,
            num_prec_radix: numeric.then_some(10),
            interval_precision: None,
        });
    }
    builder
        .build()
        .expect("the type rows are complete and well-typed")
}

/// A lookup for SetSessionOptions: does this catalog or schema exist?
pub fn exists(ctx: &SessionContext, option: &str, value: &str) -> bool {
    match option {
        "catalog" => ctx.catalog(value).is_some(),
        _ => schema_names(ctx).iter().any(|(_, s)| s == value),
    }
}
