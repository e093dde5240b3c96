//! `kept calendar due|between`: business-time answers for admins and
//! scripts, from a calendar file in the API's JSON. Invalid files and
//! arguments name the field and the reason, and exit with code 2.

use crate::cli::Failure;
use jiff::Timestamp;
use kept_core::calendar::{Calendar, add_business, business_seconds};
use std::path::PathBuf;

pub enum Args {
    Due { calendar: PathBuf, from: String, business_minutes: i64 },
    Between { calendar: PathBuf, from: String, to: String },
}

fn load(path: &PathBuf) -> Result<Calendar, Failure> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
    Calendar::from_json(&text).map_err(|e| {
        let field = if e.field().is_empty() { String::new() } else { format!("{}: ", e.field()) };
        Failure::input(format!("{}: {field}{}", path.display(), e.reason()))
    })
}

fn instant(flag: &str, raw: &str) -> Result<Timestamp, Failure> {
    raw.parse().map_err(|_| {
        Failure::input(format!(
            "{flag}: '{raw}' is not an RFC 3339 time with an offset, like 2024-06-03T09:00:00-04:00"
        ))
    })
}

pub fn run(args: Args) -> Result<String, Failure> {
    match args {
        Args::Due { calendar, from, business_minutes } => {
            let cal = load(&calendar)?;
            let from = instant("--from", &from)?;
            if !(0..=10_000_000).contains(&business_minutes) {
                return Err(Failure::input("--business-minutes: must be 0 to 10000000"));
            }
            let due = add_business(&cal, from, business_minutes * 60)
                .ok_or_else(|| Failure::input("the calendar has no working time in the next ten years"))?;
            Ok(due.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        }
        Args::Between { calendar, from, to } => {
            let cal = load(&calendar)?;
            Ok(business_seconds(&cal, instant("--from", &from)?, instant("--to", &to)?).to_string())
        }
    }
}
