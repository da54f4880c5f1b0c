//! Every c360 function of text (as the registry finds them) on arbitrary text, with each
//! number of text arguments it takes.
#![no_main]

use c360::values::quote_literal;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|input: (String, String)| {
    let (a, b) = (quote_literal(&input.0), quote_literal(&input.1));
    for (f, arities) in common::text_functions() {
        for n in arities {
            let args = if *n == 1 {
                a.clone()
            } else {
                format!("{a}, {b}")
            };
            common::run(&format!("SELECT {f}({args})"));
        }
    }
});
