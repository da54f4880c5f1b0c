//! A table whose rows come from work that runs when the query executes (not while it is
//! planned, so EXPLAIN runs nothing), in the session that queried it: the shape of the
//! table functions that train or fit something.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Result, plan_err};
use datafusion::datasource::TableType;
use datafusion::execution::TaskContext;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use futures::future::BoxFuture;

/// The work: given the querying session, a stream of the table's rows.
pub type Work = Arc<
    dyn Fn(SessionContext) -> BoxFuture<'static, Result<SendableRecordBatchStream>> + Send + Sync,
>;

/// A table produced by [`Work`] at execution time.
pub struct DeferredTable {
    /// What it is, for EXPLAIN and errors, e.g. `kmeans_segments('customer_features', ...)`.
    pub label: String,
    /// Its schema.
    pub schema: SchemaRef,
    /// The work.
    pub work: Work,
}

impl DeferredTable {
    /// A table of the one batch `batch` makes (given the querying session and the schema),
    /// the shape of the functions that train something and return its metrics.
    pub fn one_batch<F>(label: String, schema: SchemaRef, batch: F) -> Arc<Self>
    where
        F: Fn(SessionContext, SchemaRef) -> BoxFuture<'static, Result<RecordBatch>>
            + Send
            + Sync
            + 'static,
    {
        let out = Arc::clone(&schema);
        let work: Work = Arc::new(move |ctx| {
            let schema = Arc::clone(&out);
            let batch = batch(ctx, Arc::clone(&schema));
            Box::pin(async move {
                let batch = batch.await?;
                Ok(Box::pin(RecordBatchStreamAdapter::new(
                    schema,
                    futures::stream::once(async move { Ok(batch) }),
                )) as _)
            })
        });
        Arc::new(Self {
            label,
            schema,
            work,
        })
    }
}

impl fmt::Debug for DeferredTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

#[async_trait]
impl TableProvider for DeferredTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(state) = state.as_any().downcast_ref::<SessionState>() else {
            return plan_err!("{}: needs a c360 session", self.label);
        };
        let partition = Arc::new(Deferred {
            label: self.label.clone(),
            schema: Arc::clone(&self.schema),
            work: Arc::clone(&self.work),
            state: state.clone(),
        });
        Ok(Arc::new(StreamingTableExec::try_new(
            Arc::clone(&self.schema),
            vec![partition],
            projection,
            [],
            false,
            limit,
        )?))
    }
}

struct Deferred {
    label: String,
    schema: SchemaRef,
    work: Work,
    state: SessionState,
}

impl fmt::Debug for Deferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

impl PartitionStream for Deferred {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _task: Arc<TaskContext>) -> SendableRecordBatchStream {
        let ctx = SessionContext::new_with_state(self.state.clone());
        let work = (self.work)(ctx);
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            futures::stream::once(work).try_flatten(),
        ))
    }
}
