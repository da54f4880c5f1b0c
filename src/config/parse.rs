//! Leaf parsers of configuration values: identifiers, byte sizes, cron expressions and SQL
//! type names. They import nothing of c360, so every module may use them.

use std::str::FromStr;

use croner::Cron;
use croner::parser::CronParser;
use datafusion::arrow::datatypes::{DataType, TimeUnit};

/// Whether `name` is a plain lowercase SQL identifier (usable unquoted as a table name).
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Parse a byte size such as `512MB`, `2GiB`, `1.5 GB` or `1048576`.
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size; expected e.g. \"512MB\" or \"2GiB\""))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "kib" | "k" => 1024.0,
        "mb" => 1e6,
        "mib" | "m" => 1024.0 * 1024.0,
        "gb" => 1e9,
        "gib" | "g" => 1024.0 * 1024.0 * 1024.0,
        "tb" => 1e12,
        "tib" | "t" => 1024.0_f64.powi(4),
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}'; expected B, KB, MB, GB, KiB, MiB or GiB"
            ));
        }
    };
    Ok((value * factor) as usize)
}

/// Parse a cron expression (5 fields, or 6 with seconds first).
pub fn parse_cron(text: &str) -> Result<Cron, String> {
    CronParser::new().parse(text).map_err(|e| {
        format!("'{text}': {e}; expected e.g. \"0 3 * * *\" (03:00 daily) or \"*/10 * * * * *\"")
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("512MB").unwrap(), 512_000_000);
        assert_eq!(parse_bytes("2GiB").unwrap(), 2 * 1024 * 1024 * 1024);
        assert_eq!(parse_bytes("100").unwrap(), 100);
        assert!(parse_bytes("2 parsecs").is_err());
    }

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
