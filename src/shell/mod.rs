//! The analyst-facing surface: statement execution and result printing shared by
//! `c360 query` (and later the interactive shell).

pub mod print;
pub mod statements;
