//! kept-core: the domain of kept, pure Rust.
//!
//! What belongs here: domain types (typed ids, cases, users, accounts),
//! the rules (case lifecycle, permissions, validation, business time,
//! promise clocks, survey scoring, metric maths) and nothing that does IO.
//! No tokio, no sqlx, no axum, no reads of the system clock: time is always
//! an argument. `tests/purity.rs` keeps it that way.

pub mod calendar;
pub mod stats;
