//! Business calendars: working windows in a time zone, holidays and overrides,
//! and the business-time arithmetic of METRICS.md §2.2.
