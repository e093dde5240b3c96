//! The kept binary as a user runs it: subcommands, exit codes, the demo,
//! and a served desk reached over HTTP; plus browser tests in headless
//! Chromium when KEPT_TEST_BROWSER=1.

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "a test that cannot unwrap has failed")]

mod cli {
    mod backup;
    mod bench;
    mod browser;
    mod commands;
    mod crash;
    mod import;
    pub mod process;
    mod replicas;
    mod scorecard_browser;
    mod shutdown;
    mod survey_browser;
    pub mod webdriver;
}
