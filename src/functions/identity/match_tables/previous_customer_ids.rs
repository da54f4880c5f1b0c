//! `previous_customer_ids(model)`: the customer ids a model published last time.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::{DataFusionError, Result};
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;

use super::{conform, one_batch, published_columns};

/// The customer ids the last published version of `model` gave each record: empty before the
/// model was first published. The model must have source, source_record_id and customer_id
/// columns; customer_since is read when present.
pub(super) async fn previous_ids_stream(
    ctx: &SessionContext,
    model: &str,
    schema: SchemaRef,
) -> Result<SendableRecordBatchStream> {
    let Some(columns) = published_columns(ctx, model).await? else {
        return one_batch(&schema, Ok(RecordBatch::new_empty(Arc::clone(&schema))));
    };
    for needed in ["source", "source_record_id", "customer_id"] {
        if !columns.iter().any(|c| c == needed) {
            return Err(DataFusionError::Plan(format!(
                "previous_customer_ids('{model}'): the published {model} has no column \
                 '{needed}'; the model must publish source, source_record_id and customer_id"
            )));
        }
    }
    let since = if columns.iter().any(|c| c == "customer_since") {
        "CAST(customer_since AS VARCHAR)"
    } else {
        "CAST(NULL AS VARCHAR)"
    };
    let sql = format!(
        "SELECT CAST(source || ':' || source_record_id AS VARCHAR), CAST(customer_id AS VARCHAR), \
         {since} FROM {model}"
    );
    let stream = ctx.sql(&sql).await?.execute_stream().await?;
    Ok(conform(stream, schema))
}
