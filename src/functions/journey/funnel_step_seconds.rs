//! `funnel_step_seconds(window, [mode,] timestamp, cond1, ...)`: the time from the first step
//! to each step of the deepest funnel chain, for time-to-convert figures (the median time
//! between steps is `median(s[k + 1] - s[k])`).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::events::{EventGroups, EventsAccumulator, state_fields};
use super::window_funnel::{Funnel, check_funnel_arguments, step_seconds_type};

#[user_doc(
    doc_section(label = "Journey Functions"),
    description = "The seconds from the first step to each step of the deepest chain that \
        window_funnel finds with the same arguments and modes: a list whose length is the \
        window_funnel level, starting with 0. The time between steps k and k + 1 is \
        s[k + 1] - s[k]; the median time to convert is median(s[3] - s[1]) over the groups \
        that reached step 3. Empty when step 1 never happened.",
    syntax_example = "funnel_step_seconds(window, [mode,] timestamp, cond1, cond2, ...)",
    sql_example = r#"```sql
> SELECT funnel_step_seconds(INTERVAL '1 day', at, event = 'view', event = 'cart', event = 'buy') AS s
  FROM (VALUES (TIMESTAMP '2025-01-01 10:00:00', 'view'), (TIMESTAMP '2025-01-01 10:05:00', 'cart'),
               (TIMESTAMP '2025-01-01 11:05:00', 'buy')) AS t(at, event);
+----------------------+
| s                    |
+----------------------+
| [0.0, 300.0, 3900.0] |
+----------------------+
```"#,
    argument(
        name = "window",
        description = "A positive constant: an interval (days, hours, ...) or a number of seconds."
    ),
    argument(
        name = "mode",
        description = "Optional constant string: window_funnel's modes, comma-separated."
    ),
    argument(
        name = "timestamp",
        description = "The event time: a timestamp, a date or integer seconds."
    ),
    argument(
        name = "cond1, cond2, ...",
        description = "Boolean conditions, one per funnel step, in order."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FunnelStepSecondsFunc {
    signature: Signature,
}

impl Default for FunnelStepSecondsFunc {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

fn funnel(args: &AccumulatorArgs) -> Result<(Arc<Funnel>, usize)> {
    let (mut funnel, first) = Funnel::from_args("funnel_step_seconds", args)?;
    funnel.step_seconds = true;
    Ok((Arc::new(funnel), first))
}

impl AggregateUDFImpl for FunnelStepSecondsFunc {
    fn name(&self) -> &str {
        "funnel_step_seconds"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        check_funnel_arguments("funnel_step_seconds", args)?;
        Ok(step_seconds_type())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(&args))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let (funnel, first) = funnel(&args)?;
        Ok(Box::new(EventsAccumulator::new(funnel, first)))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let (funnel, first) = funnel(&args)?;
        Ok(Box::new(EventGroups::new(funnel, first)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
