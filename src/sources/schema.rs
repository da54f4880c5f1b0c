//! Declared source schemas: SQL type names from `c360.toml` turned into an Arrow schema.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};

use crate::config::{ColumnConfig, parse_sql_type};

/// The Arrow schema for declared columns (types were checked when the config was loaded).
pub fn declared_schema(columns: &[ColumnConfig]) -> Result<SchemaRef, String> {
    let fields = columns
        .iter()
        .map(|c| {
            parse_sql_type(&c.data_type)
                .map(|t| Field::new(&c.name, t, c.nullable))
                .map_err(|e| format!("schema column '{}': {e}", c.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(Schema::new(fields)))
}
