//! kept-server's test suite: the API and pages in-process (tower `oneshot`),
//! on SQLite and, when KEPT_TEST_POSTGRES_URL is set, PostgreSQL; plus a
//! real server on port 0.

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "a test that cannot unwrap has failed")]

mod api {
    pub mod app;
    mod cases;
    mod errors;
    mod import;
    mod mail;
    mod matrix;
    mod metrics;
    mod openapi;
    mod pages;
    mod promises;
    mod real_server;
    mod scorecard_pages;
    mod security;
    mod surveys;
}
