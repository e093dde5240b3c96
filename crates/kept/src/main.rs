//! The kept binary: one executable for serving, migrating, seeding a demo
//! organisation and administering people and tokens. Thin: it parses the
//! command line and configuration, then calls the library crates.

mod bench;
mod calendar_cli;
mod cli;
mod config;
mod demo;
mod demo_plans;
mod import_cli;
mod metrics_cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kept: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("kept: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
