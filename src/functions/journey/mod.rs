//! Journey functions: ordered funnels (`window_funnel`, `funnel_step_seconds`), retention flags (`retention`) and
//! event patterns (`sequence_match`, `sequence_count`) over a customer's events, with
//! ClickHouse's semantics, as aggregates that merge across partitions; sessions
//! (`sessionize`, a window function) and PostHog's lifecycle (`lifecycle`).

pub mod events;
pub mod funnel_step_seconds;
pub mod lifecycle;
pub mod pattern;
pub mod retention;
pub mod sequence;
pub mod sessionize;
pub mod window_funnel;

use datafusion::logical_expr::{AggregateUDF, WindowUDF};

/// The journey family's aggregate functions.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    vec![
        AggregateUDF::new_from_impl(window_funnel::WindowFunnelFunc::default()),
        AggregateUDF::new_from_impl(funnel_step_seconds::FunnelStepSecondsFunc::default()),
        AggregateUDF::new_from_impl(retention::RetentionFunc::default()),
        AggregateUDF::new_from_impl(sequence::SequenceFunc::new(sequence::Answer::Whether)),
        AggregateUDF::new_from_impl(sequence::SequenceFunc::new(sequence::Answer::HowMany)),
        AggregateUDF::new_from_impl(lifecycle::LifecycleFunc::default()),
    ]
}

/// The journey family's window functions.
pub fn window_functions() -> Vec<WindowUDF> {
    vec![WindowUDF::new_from_impl(
        sessionize::SessionizeFunc::default(),
    )]
}
