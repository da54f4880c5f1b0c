//! Ballista's plan codecs with c360's scoring functions carrying their model file: the client
//! pins each scoring call to the file it plans with ([`carry_models`]), the codecs write that
//! file beside the function's name, and the scheduler and the executors decode the function
//! bound to it. So an executor needs no copy of the workspace's models, and a model retrained
//! between two queries (or two models of one run) is never scored with a stale copy.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SessionState, TaskContext};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{AggregateUDF, Expr, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::scalar::ScalarValue;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use crate::functions::carried::scores_model;
use crate::models::carried::Carried;

/// The scoring functions of a process by name: what a carried model is decoded onto.
#[derive(Clone, Default)]
struct Scoring(Arc<HashMap<String, Arc<ScalarUDF>>>);

impl fmt::Debug for Scoring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scoring({} functions)", self.0.len())
    }
}

impl Scoring {
    fn of(state: &SessionState) -> Self {
        let functions = state
            .scalar_functions()
            .iter()
            .filter(|(_, f)| scores_model(f).is_some())
            .map(|(name, f)| (name.clone(), Arc::clone(f)))
            .collect();
        Self(Arc::new(functions))
    }

    /// The carried model of `udf`, written to `buf` (nothing for other functions).
    fn encode(udf: &ScalarUDF, buf: &mut Vec<u8>) {
        if let Some(carried) = scores_model(udf).and_then(|f| f.carried()) {
            carried.encode(buf);
        }
    }

    /// Function `name` bound to the model `buf` carries; `None` when `buf` carries none.
    fn decode(&self, name: &str, buf: &[u8]) -> Option<Result<Arc<ScalarUDF>>> {
        let carried = Carried::decode(buf)?;
        let scoring = self.0.get(name).and_then(|f| scores_model(f));
        Some(match scoring {
            Some(scoring) => Ok(Arc::new(scoring.carrying(carried))),
            None => Err(DataFusionError::Plan(format!(
                "the plan carries model '{}' for {name}, which this process does not know as \
                 a scoring function; is it the same c360 version as the client?",
                carried.name
            ))),
        })
    }
}

/// The function methods both codecs share: scalar functions with their carried model, the
/// rest as Ballista's codec (`self.inner`) encodes them.
macro_rules! function_codec {
    () => {
        fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
            match self.scoring.decode(name, buf) {
                Some(decoded) => decoded,
                None => self.inner.try_decode_udf(name, buf),
            }
        }

        fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
            Scoring::encode(node, buf);
            Ok(())
        }

        fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
            self.inner.try_decode_udaf(name, buf)
        }

        fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
            self.inner.try_encode_udaf(node, buf)
        }

        fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
            self.inner.try_decode_udwf(name, buf)
        }

        fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
            self.inner.try_encode_udwf(node, buf)
        }
    };
}

/// Ballista's logical codec (client to scheduler), with carried models.
#[derive(Debug, Default)]
pub struct LogicalCodec {
    inner: BallistaLogicalExtensionCodec,
    scoring: Scoring,
}

impl LogicalCodec {
    /// The codec of a process whose functions are those of `state`.
    pub fn new(state: &SessionState) -> Self {
        Self {
            inner: BallistaLogicalExtensionCodec::default(),
            scoring: Scoring::of(state),
        }
    }
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.inner
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    function_codec!();
}

/// Ballista's physical codec (scheduler to executors), with carried models.
#[derive(Debug, Default)]
pub struct PhysicalCodec {
    inner: BallistaPhysicalExtensionCodec,
    scoring: Scoring,
}

impl PhysicalCodec {
    /// The codec of a process whose functions are those of `state`.
    pub fn new(state: &SessionState) -> Self {
        Self {
            inner: BallistaPhysicalExtensionCodec::default(),
            scoring: Scoring::of(state),
        }
    }
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.inner.try_encode(node, buf, proto_converter)
    }

    function_codec!();
}

/// The model named by a scoring call's first argument, when it is a string constant.
fn model_name(call: &ScalarFunction) -> Option<&str> {
    match call.args.first()? {
        Expr::Literal(ScalarValue::Utf8(Some(name)), _)
        | Expr::Literal(ScalarValue::Utf8View(Some(name)), _)
        | Expr::Literal(ScalarValue::LargeUtf8(Some(name)), _) => Some(name),
        _ => None,
    }
}

/// Whether every scoring call of `plan` names a model this process can carry (a string
/// constant naming a model file it has); a plan with another call scores here, where its
/// error is the function's own.
pub fn models_carried(plan: &LogicalPlan) -> bool {
    let mut carried = true;
    plan.apply_with_subqueries(|node| {
        for expr in node.expressions() {
            expr.apply(|e| {
                if let Expr::ScalarFunction(call) = e
                    && let Some(scoring) = scores_model(&call.func)
                {
                    carried &= model_name(call).is_some_and(|name| scoring.carries(name));
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .ok();
    carried
}

/// `plan` with every scoring call bound to the model file it names as this process reads it
/// now: what the plan's codec sends to the cluster.
pub fn carry_models(plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_down_with_subqueries(|node| {
        node.map_expressions(|expr| {
            expr.transform(|e| {
                let Expr::ScalarFunction(call) = &e else {
                    return Ok(Transformed::no(e));
                };
                let Some(scoring) = scores_model(&call.func) else {
                    return Ok(Transformed::no(e));
                };
                let Some(carried) = model_name(call).and_then(|name| scoring.carry(name)) else {
                    return Ok(Transformed::no(e));
                };
                let func = Arc::new(scoring.carrying(carried));
                Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction {
                    func,
                    args: call.args.clone(),
                })))
            })
        })
    })
    .map(|t| t.data)
}
