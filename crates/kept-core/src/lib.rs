//! kept-core: the domain of kept, pure Rust.
//!
//! What belongs here: domain types (typed ids, cases, people, accounts),
//! the rules (case lifecycle, permissions, validation, business time,
//! promise clocks, survey scoring, metric maths) and nothing that does IO.
//! No tokio, no sqlx, no axum, no reads of the system clock: time is always
//! an argument. `tests/purity.rs` keeps it that way.

pub mod accounts;
pub mod calendar;
pub mod cases;
pub mod demo;
mod enums;
pub mod error;
pub mod ids;
pub mod import;
pub mod mail;
pub mod metrics;
pub mod people;
pub mod permissions;
pub mod promises;
pub mod stats;
pub mod surveys;
pub mod values;

pub use error::{DomainError, FieldError};
