-- Rollup differences committed with the changes they count but not yet
-- added to metric_rollups / metric_rollups_monthly: one row per group
-- commit, folded into the rollups a few dozen at a time and before any
-- read of them (src/metrics/pending.rs). Kept in the same transaction as
-- the changes, so a crash loses neither.
CREATE TABLE metric_rollup_pending (
    id      INTEGER PRIMARY KEY,
    deltas  BLOB    NOT NULL
);
