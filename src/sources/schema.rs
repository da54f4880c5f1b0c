//! Declared source schemas: SQL type names from `c360.toml` turned into an Arrow schema.

use std::str::FromStr;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::config::ColumnConfig;

/// Parse a SQL type name (`bigint`, `double`, `varchar`, `decimal(10,2)`, `timestamp`, ...) or,
/// failing that, an Arrow type name as Arrow prints it (`Int64`, `Utf8`, `Timestamp(µs)`).
pub fn parse_sql_type(text: &str) -> Result<DataType, String> {
    let t = text.trim().to_ascii_lowercase();
    let simple = match t.as_str() {
        "bigint" | "int8" | "long" | "int64" => Some(DataType::Int64),
        "int" | "integer" | "int4" | "int32" => Some(DataType::Int32),
        "smallint" | "int2" | "int16" => Some(DataType::Int16),
        "tinyint" | "int1" => Some(DataType::Int8),
        "double" | "double precision" | "float8" | "float64" => Some(DataType::Float64),
        "float" | "real" | "float4" | "float32" => Some(DataType::Float32),
        "varchar" | "text" | "string" | "char" | "utf8" => Some(DataType::Utf8),
        "boolean" | "bool" => Some(DataType::Boolean),
        "date" => Some(DataType::Date32),
        "timestamp" => Some(DataType::Timestamp(TimeUnit::Microsecond, None)),
        "timestamptz" | "timestamp with time zone" => Some(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some("UTC".into()),
        )),
        _ => None,
    };
    if let Some(data_type) = simple {
        return Ok(data_type);
    }
    if let Some(args) = t
        .strip_prefix("decimal")
        .or_else(|| t.strip_prefix("numeric"))
        .map(str::trim)
        .and_then(|a| a.strip_prefix('('))
        .and_then(|a| a.strip_suffix(')'))
    {
        let mut parts = args.split(',').map(|p| p.trim().parse::<i64>());
        return match (parts.next(), parts.next(), parts.next()) {
            (Some(Ok(p)), Some(Ok(s)), None) if (1..=38).contains(&p) && (0..=p).contains(&s) => {
                Ok(DataType::Decimal128(p as u8, s as i8))
            }
            _ => Err(format!(
                "'{text}' is not a valid decimal; expected decimal(precision, scale) with \
                 1 <= precision <= 38 and 0 <= scale <= precision"
            )),
        };
    }
    DataType::from_str(text.trim()).map_err(|_| {
        format!(
            "unknown type '{text}'; expected one of bigint, int, smallint, double, float, \
             decimal(p,s), varchar, boolean, date, timestamp, timestamptz"
        )
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_and_arrow_names() {
        assert_eq!(parse_sql_type("BIGINT").unwrap(), DataType::Int64);
        assert_eq!(parse_sql_type("varchar").unwrap(), DataType::Utf8);
        assert_eq!(
            parse_sql_type("decimal(10, 2)").unwrap(),
            DataType::Decimal128(10, 2)
        );
        assert_eq!(parse_sql_type("Int32").unwrap(), DataType::Int32);
        assert!(parse_sql_type("decimal(50,2)").is_err());
        assert!(parse_sql_type("money").unwrap_err().contains("money"));
    }
}
