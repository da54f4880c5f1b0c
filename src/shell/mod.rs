//! The analyst-facing surface: statement execution and result printing shared by
//! `c360 query` and the interactive `c360 shell` (session, meta commands, completion).

pub mod display;
pub mod helper;
pub mod input;
pub mod meta;
pub mod pager;
pub mod print;
pub mod progress;
pub mod repl;
pub mod session;
pub mod statements;
