//! `sequence_match` and `sequence_count` with an arbitrary pattern over arbitrary events.
#![no_main]

use c360::values::quote_literal;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|input: (String, Vec<(u32, u8)>)| {
    let pattern = quote_literal(&input.0);
    let events = common::events(&input.1);
    for f in ["sequence_match", "sequence_count"] {
        common::run(&format!(
            "SELECT {f}({pattern}, at, n = 1, n = 2, n = 3) FROM {events}"
        ));
    }
});
