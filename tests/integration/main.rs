//! The one integration-test binary (every extra test binary links DataFusion again).

mod bad_input;
mod cadence;
mod cluster;
mod common;
mod config;
mod descriptive;
mod examples;
mod flight;
mod generator;
mod hostile;
mod hostile_work;
mod identity;
mod incremental;
mod matching;
mod memory;
mod merge;
mod next_day;
mod object_store_s3;
mod partial;
mod pipeline;
mod predictive;
mod query_cli;
mod shell;
