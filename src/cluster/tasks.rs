//! The executor's execution engine: Ballista's, refusing tasks planned by another c360 version
//! and printing one line per task run (as Spark's executors log each finished task), which is
//! also how a test sees that every executor took part.

use std::fmt::{Display, Formatter};
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ballista_core::JobId;
use ballista_core::serde::protobuf::{
    RuntimeStatsReport, ShuffleWritePartition, TaskColumnStats, WindowStateReport,
};
use ballista_executor::execution_engine::{
    DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor,
};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::prelude::SessionConfig;

/// Ballista's default engine with c360's version check and task lines.
pub struct C360Engine {
    inner: DefaultExecutionEngine,
    tasks: Arc<AtomicUsize>,
    print: bool,
}

impl C360Engine {
    /// An engine that counts the tasks it ran in `tasks` and, when `print`, prints a line
    /// for each.
    pub fn new(tasks: Arc<AtomicUsize>, print: bool) -> Self {
        Self {
            inner: DefaultExecutionEngine::new(),
            tasks,
            print,
        }
    }
}

impl ExecutionEngine for C360Engine {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> Result<Arc<dyn QueryStageExecutor>> {
        super::version::check(config, "c360 executor").map_err(DataFusionError::Execution)?;
        let inner = self.inner.create_query_stage_exec(
            job_id.clone(),
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        )?;
        Ok(Arc::new(CountedStage {
            inner,
            job_id,
            stage_id,
            tasks: Arc::clone(&self.tasks),
            print: self.print,
        }))
    }
}

/// One task's stage executor, counted and reported when it ends.
#[derive(Debug)]
struct CountedStage {
    inner: Arc<dyn QueryStageExecutor>,
    job_id: JobId,
    stage_id: usize,
    tasks: Arc<AtomicUsize>,
    print: bool,
}

impl Display for CountedStage {
    fn fmt(&self, f: &mut Formatter<'_>) -> std::fmt::Result {
        Display::fmt(&self.inner, f)
    }
}

#[async_trait::async_trait]
impl QueryStageExecutor for CountedStage {
    async fn execute_query_stage(
        &self,
        task_id: usize,
        context: Arc<TaskContext>,
    ) -> Result<Vec<ShuffleWritePartition>> {
        let started = Instant::now();
        let written = self.inner.execute_query_stage(task_id, context).await;
        let finished = self.tasks.fetch_add(1, Ordering::Relaxed) + 1;
        if self.print {
            let outcome = match &written {
                Ok(partitions) => format!(
                    "{} rows",
                    partitions.iter().map(|p| p.num_rows).sum::<u64>()
                ),
                Err(e) => format!("failed: {e}"),
            };
            // A closed standard output does not stop the executor.
            writeln!(
                std::io::stdout(),
                "c360 executor: task {finished} (job {} stage {} task {task_id}) {outcome} in \
                 {:.3} s",
                self.job_id,
                self.stage_id,
                started.elapsed().as_secs_f64()
            )
            .ok();
        }
        written
    }

    fn collect_plan_metrics(&self) -> Vec<MetricsSet> {
        self.inner.collect_plan_metrics()
    }

    fn collect_runtime_stats_reports(&self) -> Vec<RuntimeStatsReport> {
        self.inner.collect_runtime_stats_reports()
    }

    fn collect_window_state_reports(&self) -> Result<Vec<WindowStateReport>> {
        self.inner.collect_window_state_reports()
    }

    fn collect_column_stats(&self) -> Vec<TaskColumnStats> {
        self.inner.collect_column_stats()
    }
}
