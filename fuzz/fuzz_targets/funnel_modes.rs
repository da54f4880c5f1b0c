//! `window_funnel` and `funnel_step_seconds` with an arbitrary window and mode over
//! arbitrary events.
#![no_main]

use c360::values::quote_literal;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|input: (i64, String, Vec<(u32, u8)>)| {
    let (window, mode) = (input.0, quote_literal(&input.1));
    let events = common::events(&input.2);
    for f in ["window_funnel", "funnel_step_seconds"] {
        common::run(&format!(
            "SELECT {f}({window}, {mode}, at, n = 1, n = 2, n = 3), \
             {f}({window}, at, n = 1, n = 2) FROM {events}"
        ));
    }
});
