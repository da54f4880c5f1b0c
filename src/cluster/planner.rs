//! Where a query runs when the session is a cluster client: on the cluster when every table it
//! scans is a file table (a listing table: the workspace's sources and published models, and
//! views over them), here otherwise. A c360 table function (training, `match_pairs`,
//! `next_best_offer`, ...) runs at planning time on this process and returns an in-memory or
//! streaming table, which cannot be sent to a scheduler; such a plan runs here, and each of its
//! parts that reads only files (the query under a `COPY` the pipeline writes a model with, one
//! side of a join with a table function) still runs on the cluster, as a [`RemoteNode`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use ballista_core::planner::BallistaQueryPlanner;
use datafusion::catalog::Session;
use datafusion::common::DFSchemaRef;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::source_as_provider;
use datafusion::error::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{
    Expr, Extension, LogicalPlan, PlanType, StringifiedPlan, UserDefinedLogicalNode,
    UserDefinedLogicalNodeCore,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::displayable;
use datafusion::physical_plan::explain::ExplainExec;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};
use datafusion_proto::protobuf::LogicalPlanNode;

use super::codec;

/// Plans a query for the cluster or for this process (see the module documentation).
pub struct HybridPlanner {
    remote: Arc<Remote>,
    local: DefaultPhysicalPlanner,
}

/// Sends plans to the scheduler and counts them.
struct Remote {
    planner: BallistaQueryPlanner<LogicalPlanNode>,
    scheduler: String,
    jobs: Arc<Jobs>,
}

impl Remote {
    async fn plan(
        &self,
        plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.jobs.0.fetch_add(1, Ordering::Relaxed);
        let plan = codec::carry_models(plan.clone())?;
        self.planner.create_physical_plan(&plan, session).await
    }
}

/// How many plans a cluster client's session has sent to the cluster (a session config
/// extension; the pipeline reads it around each model to say where the model ran).
#[derive(Debug, Default)]
pub struct Jobs(AtomicUsize);

impl Jobs {
    /// Plans sent so far.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for HybridPlanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HybridPlanner")
            .field("scheduler", &self.remote.scheduler)
            .finish()
    }
}

impl HybridPlanner {
    /// Send distributable plans to `planner` (the scheduler at `scheduler`), counting them in
    /// `jobs`.
    pub fn new(
        planner: BallistaQueryPlanner<LogicalPlanNode>,
        scheduler: String,
        jobs: Arc<Jobs>,
    ) -> Self {
        let remote = Arc::new(Remote {
            planner,
            scheduler,
            jobs,
        });
        let local = DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(RemotePlanner(
            Arc::clone(&remote),
        ))]);
        Self { remote, local }
    }
}

#[async_trait]
impl QueryPlanner for HybridPlanner {
    async fn create_physical_plan(
        &self,
        plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match plan {
            // EXPLAIN shows where the query runs: the cluster's DistributedQueryExec (with the
            // scheduler's address and the plan it is sent) or the local physical plan.
            LogicalPlan::Explain(explain) if runs_on_cluster(&explain.plan)? => {
                let exec = self.remote.plan(&explain.plan, session).await?;
                let mut plans = explain.stringified_plans.clone();
                plans.push(StringifiedPlan::new(
                    PlanType::FinalPhysicalPlan,
                    displayable(exec.as_ref())
                        .indent(explain.verbose)
                        .to_string(),
                ));
                Ok(Arc::new(ExplainExec::new(
                    Arc::clone(explain.schema.inner()),
                    plans,
                    explain.verbose,
                )))
            }
            LogicalPlan::Analyze(analyze) if runs_on_cluster(&analyze.input)? => {
                self.remote.plan(plan, session).await
            }
            _ if runs_on_cluster(plan)? => self.remote.plan(plan, session).await,
            _ => {
                let plan = parts_to_cluster(plan.clone())?;
                self.local.create_physical_plan(&plan, session).await
            }
        }
    }
}

/// Whether `plan` can run on the cluster: it scans at least one table, every table it scans
/// (subqueries included) is a file table outside `information_schema`, and it has no node
/// that only this process can run (writes, DDL, extensions, recursive queries), no union
/// (explained below) and no call of a model-scoring function whose model file this process
/// lacks.
pub fn runs_on_cluster(plan: &LogicalPlan) -> Result<bool> {
    let mut scans = 0usize;
    let mut remote = true;
    plan.apply_with_subqueries(|node| {
        match node {
            LogicalPlan::TableScan(scan) => {
                scans += 1;
                let is_file_table = scan.table_name.schema() != Some("information_schema")
                    && source_as_provider(&scan.source)
                        .ok()
                        .is_some_and(|provider| provider.is::<ListingTable>());
                remote &= is_file_table;
            }
            LogicalPlan::Extension(_)
            | LogicalPlan::Dml(_)
            | LogicalPlan::Copy(_)
            | LogicalPlan::Ddl(_)
            | LogicalPlan::Statement(_)
            | LogicalPlan::DescribeTable(_)
            | LogicalPlan::Explain(_)
            | LogicalPlan::Analyze(_)
            | LogicalPlan::RecursiveQuery(_) => remote = false,
            // Ballista 55 can run a union branch in every task of the union's stage (a branch
            // ending in a global aggregate came back twice: identity_graph's `assigned`), so a
            // union stays here and each of its branches goes to the cluster on its own.
            LogicalPlan::Union(_) => remote = false,
            _ => {}
        }
        Ok(if remote {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    })?;
    // A model-scoring call goes with the model file it names (see `codec`); one whose model
    // this process has no file of scores here, where the error is the function's own.
    Ok(remote && scans > 0 && codec::models_carried(plan))
}

/// `plan` with each largest part that can run on the cluster replaced by a [`RemoteNode`].
/// EXPLAIN keeps its input whole (it shows the plan as it would run).
fn parts_to_cluster(plan: LogicalPlan) -> Result<LogicalPlan> {
    if matches!(plan, LogicalPlan::Explain(_) | LogicalPlan::Analyze(_)) {
        return Ok(plan);
    }
    plan.transform_down(|node| {
        if runs_on_cluster(&node)? {
            let remote = RemoteNode { plan: node };
            let node = LogicalPlan::Extension(Extension {
                node: Arc::new(remote),
            });
            Ok(Transformed::new(node, true, TreeNodeRecursion::Jump))
        } else {
            Ok(Transformed::no(node))
        }
    })
    .map(|transformed| transformed.data)
}

/// A part of a local plan that runs on the cluster: its rows come from the scheduler.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd)]
pub struct RemoteNode {
    plan: LogicalPlan,
}

impl UserDefinedLogicalNodeCore for RemoteNode {
    fn name(&self) -> &str {
        "OnCluster"
    }

    // The part is planned by the scheduler, not here: it has no inputs to plan locally.
    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![]
    }

    fn schema(&self) -> &DFSchemaRef {
        self.plan.schema()
    }

    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "OnCluster: {}", self.plan.display())
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, _inputs: Vec<LogicalPlan>) -> Result<Self> {
        Ok(self.clone())
    }
}

/// Plans a [`RemoteNode`] as Ballista's distributed query.
struct RemotePlanner(Arc<Remote>);

#[async_trait]
impl ExtensionPlanner for RemotePlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        _physical_inputs: &[Arc<dyn ExecutionPlan>],
        session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        match node.as_any().downcast_ref::<RemoteNode>() {
            Some(remote) => Ok(Some(self.0.plan(&remote.plan, session).await?)),
            None => Ok(None),
        }
    }
}
