//! `kept import FILE`: a history import from JSON Lines (docs/IMPORT.md).
//! Refused lines and progress go to stderr as they come, the summary to
//! stdout. Exit codes: 0 all imported, 1 some lines rejected, 2 unusable
//! input or database.

use crate::cli::Failure;
use jiff::Timestamp;
use kept_core::import::MAX_LINE_BYTES;
use kept_store::{ImportSummary, Importer, Store};
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Progress is printed every this many lines, or this often, whichever comes first.
const PROGRESS_LINES: usize = 10_000;
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

pub struct Report {
    name: String,
    summary: ImportSummary,
    seconds: f64,
}

impl Report {
    /// The exit status: lines rejected are a failure (1) after the summary.
    pub fn outcome(&self) -> Result<(), Failure> {
        match self.summary.rejected {
            0 => Ok(()),
            1 => Err(Failure { code: 1, message: "1 line was rejected (see above)".into() }),
            n => Err(Failure { code: 1, message: format!("{n} lines were rejected (see above)") }),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "imported {}: {} ({:.1} s)", self.name, counts(&self.summary), self.seconds)
    }
}

fn counts(s: &ImportSummary) -> String {
    format!("{} created, {} updated, {} unchanged, {} rejected", s.created, s.updated, s.unchanged, s.rejected)
}

/// Imports `file` (`-` reads stdin) as of `now`.
pub async fn run(store: &Store, file: &Path, now: Timestamp) -> Result<Report, Failure> {
    let name = file.display().to_string();
    let input: Box<dyn Read> = if name == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(file).map_err(|e| Failure::input(format!("cannot read {name}: {e}")))?)
    };
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let started = Instant::now();
    let mut last_report = started;
    let mut importer = Importer::new(store, now);
    let mut buf = Vec::new();
    let mut number = 0;
    let stopped = |e: kept_store::StoreError| Failure {
        code: 2,
        message: format!(
            "the import stopped: {e} (what was imported so far stays; import the file again to complete it)"
        ),
    };
    while next_line(&mut reader, &mut buf).map_err(|e| Failure::input(format!("cannot read {name}: {e}")))? {
        number += 1;
        importer.line(number, &buf).await.map_err(stopped)?;
        let mut err = std::io::stderr().lock();
        for e in importer.take_errors() {
            let _ = writeln!(err, "{e}");
        }
        if number % PROGRESS_LINES == 0 || last_report.elapsed() >= PROGRESS_EVERY {
            last_report = Instant::now();
            let seconds = started.elapsed().as_secs_f64();
            let _ = writeln!(err, "  {number} lines: {} ({seconds:.0} s)", counts(importer.summary()));
        }
    }
    let summary = importer.finish().await.map_err(stopped)?;
    let mut err = std::io::stderr().lock();
    for e in importer.take_errors() {
        let _ = writeln!(err, "{e}");
    }
    Ok(Report { name, summary, seconds: started.elapsed().as_secs_f64() })
}

/// Reads the next line into `buf` without its line break; `false` at the
/// end. A line longer than the import allows is read only that far (then
/// skipped to its end), so one runaway line cannot exhaust memory; the
/// importer refuses it by its length.
fn next_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    let limit = MAX_LINE_BYTES as u64 + 1;
    if reader.by_ref().take(limit).read_until(b'\n', buf)? == 0 {
        return Ok(false);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    } else if buf.len() > MAX_LINE_BYTES {
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let n = reader.by_ref().take(1 << 16).read_until(b'\n', &mut rest)?;
            if n == 0 || rest.last() == Some(&b'\n') {
                break;
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::next_line;

    #[test]
    fn lines_lose_their_breaks_and_the_last_needs_none() {
        let mut r = std::io::Cursor::new(b"a\r\nb\n\nc".to_vec());
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        while next_line(&mut r, &mut buf).unwrap() {
            lines.push(String::from_utf8(buf.clone()).unwrap());
        }
        assert_eq!(lines, ["a", "b", "", "c"]);
    }
}
