-- Management by fact (issue 5): daily rollups per scope and base measure,
-- what each case contributed to them, targets, objectives and costs.
-- docs/METRICS.md explains the measures and the rollup structure.

-- One row per (scope, key, local day, measure): a count, an integer total
-- and, for durations and scores, a histogram (kept-core metrics::Hist).
-- Changed in the same transaction as the case that changes it.
CREATE TABLE metric_rollups (
    scope      TEXT    NOT NULL,
    scope_key  TEXT    NOT NULL,
    day        BIGINT  NOT NULL,
    measure    TEXT    NOT NULL,
    n          BIGINT  NOT NULL,
    total      BIGINT  NOT NULL,
    hist       BLOB,
    CONSTRAINT metric_rollups_pkey PRIMARY KEY (scope, scope_key, day, measure)
) WITHOUT ROWID;
-- The same per calendar month (`day` = the month's first day): a scorecard
-- over a long period reads whole months here and only the days at its edges
-- from metric_rollups. Kept in the same transaction as the daily rows.
CREATE TABLE metric_rollups_monthly (
    scope      TEXT    NOT NULL,
    scope_key  TEXT    NOT NULL,
    day        BIGINT  NOT NULL,
    measure    TEXT    NOT NULL,
    n          BIGINT  NOT NULL,
    total      BIGINT  NOT NULL,
    hist       BLOB,
    CONSTRAINT metric_rollups_monthly_pkey PRIMARY KEY (scope, scope_key, day, measure)
) WITHOUT ROWID;
-- Which accounts were active when (account retention).
CREATE INDEX metric_rollups_account_idx ON metric_rollups (day, scope_key) WHERE scope = 'account';

-- What a case (or a case-less survey invitation) last contributed, so a
-- change applies new − old to the rollups.
CREATE TABLE metric_sources (
    source_kind  TEXT    NOT NULL CHECK (source_kind IN ('case', 'invitation')),
    source_id    BIGINT  NOT NULL,
    items        BLOB    NOT NULL,
    CONSTRAINT metric_sources_pkey PRIMARY KEY (source_kind, source_id)
) WITHOUT ROWID;

-- A requester's cases by time: repeats within 7 days (first contact resolution).
CREATE INDEX cases_requester_idx ON cases (requester_id, created_at);
-- The open cases, for backlog age.
CREATE INDEX cases_open_idx ON cases (created_at) WHERE status NOT IN ('solved', 'closed');
CREATE INDEX cases_open_team_idx ON cases (team_id, created_at) WHERE status NOT IN ('solved', 'closed');
CREATE INDEX cases_open_assignee_idx ON cases (assignee_id, created_at) WHERE status NOT IN ('solved', 'closed');
CREATE INDEX cases_requester_solved_idx ON cases (requester_id, solved_at) WHERE solved_at IS NOT NULL;

-- Targets per metric and scope, in millionths of the metric's unit (D-3).
-- Dates are the organisation's local dates; effective_to is exclusive.
CREATE TABLE metric_targets (
    id              INTEGER PRIMARY KEY,
    metric          TEXT    NOT NULL,
    scope           TEXT    NOT NULL,
    scope_key       TEXT    NOT NULL DEFAULT '',
    direction       TEXT    NOT NULL CHECK (direction IN ('higher_is_better', 'lower_is_better')),
    target_micros   BIGINT  NOT NULL,
    amber_micros    BIGINT  NOT NULL DEFAULT 0 CHECK (amber_micros >= 0),
    min_sample      BIGINT  NOT NULL DEFAULT 30 CHECK (min_sample >= 0),
    effective_from  TEXT    NOT NULL,
    effective_to    TEXT,
    created_by      BIGINT  REFERENCES users (id),
    created_at      BIGINT  NOT NULL
);
CREATE INDEX metric_targets_metric_idx ON metric_targets (metric, scope, scope_key);

-- Corporate objectives and the service objectives that serve them.
CREATE TABLE objectives (
    id            INTEGER PRIMARY KEY,
    parent_id     BIGINT  REFERENCES objectives (id),
    level         TEXT    NOT NULL CHECK (level IN ('corporate', 'service')),
    title         TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    owner_id      BIGINT  REFERENCES users (id),
    period_start  TEXT    NOT NULL,
    period_end    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE objective_metrics (
    objective_id  BIGINT  NOT NULL REFERENCES objectives (id),
    metric        TEXT    NOT NULL,
    scope         TEXT    NOT NULL DEFAULT 'org',
    scope_key     TEXT    NOT NULL DEFAULT '',
    CONSTRAINT objective_metrics_objective_id_metric_scope_scope_key_key UNIQUE (objective_id, metric, scope, scope_key)
);

-- Operating costs the organisation enters per period (cost per case, §5.2).
CREATE TABLE costs (
    id            INTEGER PRIMARY KEY,
    period_start  TEXT    NOT NULL,
    period_end    TEXT    NOT NULL,
    amount_cents  BIGINT  NOT NULL CHECK (amount_cents >= 0),
    note          TEXT    NOT NULL DEFAULT '',
    created_by    BIGINT  REFERENCES users (id),
    created_at    BIGINT  NOT NULL
);
CREATE INDEX costs_period_idx ON costs (period_start);

-- The time zone whose local days the rollups are counted in: fixed when the
-- first rollup is written, changed only by `kept rebuild-metrics`, so one
-- table never mixes two zones' days.
CREATE TABLE metric_state (
    id         BIGINT  PRIMARY KEY CHECK (id = 1),
    time_zone  TEXT    NOT NULL
);
