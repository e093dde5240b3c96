//! The store contract suite: every test runs on SQLite and, when
//! KEPT_TEST_POSTGRES_URL is set, on PostgreSQL (a fresh schema each).

#![expect(clippy::unwrap_used, reason = "a test that cannot unwrap has failed")]

mod store {
    mod auth;
    mod cases;
    pub mod common;
    mod import;
    mod internal;
    mod lists;
    mod metrics;
    mod promises;
    mod schema;
    mod surveys;
}
