//! The statistics behind every number kept shows (METRICS.md §1, §3.3, §4–§6).
