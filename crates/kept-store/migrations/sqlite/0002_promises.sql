-- Promises: business calendars, promise policies (both versioned, so that a
-- clock's history can always be replayed with the rules then in force),
-- promise instances (the live clocks of each case), agent-made promises,
-- due jobs, and recovery after a breach.

CREATE TABLE calendars (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE UNIQUE INDEX calendars_name_key ON calendars (lower(name));

-- Each edit is a new version from `effective_from` on: time measured before
-- an edit stays measured with the calendar then in force.
CREATE TABLE calendar_versions (
    calendar_id     BIGINT  NOT NULL REFERENCES calendars (id),
    version         BIGINT  NOT NULL,
    effective_from  BIGINT  NOT NULL,
    spec            TEXT    NOT NULL,
    created_by      BIGINT  REFERENCES users (id),
    CONSTRAINT calendar_versions_calendar_id_version_key UNIQUE (calendar_id, version)
);

CREATE TABLE promise_policies (
    id          INTEGER PRIMARY KEY,
    -- Order among policies: the first whose conditions match applies.
    position    BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE policy_versions (
    policy_id       BIGINT  NOT NULL REFERENCES promise_policies (id),
    version         BIGINT  NOT NULL,
    effective_from  BIGINT  NOT NULL,
    -- A switched-off policy is a version with active = false.
    active          BOOLEAN NOT NULL,
    spec            TEXT    NOT NULL,
    created_by      BIGINT  REFERENCES users (id),
    CONSTRAINT policy_versions_policy_id_version_key UNIQUE (policy_id, version)
);

-- Bumped in the same transaction as any calendar or policy change, so every
-- replica knows when its cached copy of the books is stale.
CREATE TABLE books_generation (
    id          BIGINT  PRIMARY KEY CHECK (id = 1),
    generation  BIGINT  NOT NULL
);
INSERT INTO books_generation (id, generation) VALUES (1, 0);

-- The clocks of each case, as the engine last computed them. `transitions`
-- counts the engine's transitions already appended as events, so each is
-- appended exactly once.
CREATE TABLE promise_instances (
    id              INTEGER PRIMARY KEY,
    case_id         BIGINT  NOT NULL REFERENCES cases (id),
    kind            TEXT    NOT NULL,
    ordinal         BIGINT  NOT NULL,
    policy_id       BIGINT,
    policy_version  BIGINT,
    calendar_id     BIGINT,
    business        BOOLEAN NOT NULL,
    class           TEXT    NOT NULL,
    target_ms       BIGINT  NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('running', 'paused', 'met', 'breached', 'cancelled')),
    started_at      BIGINT  NOT NULL,
    elapsed_ms      BIGINT  NOT NULL,
    remaining_ms    BIGINT  NOT NULL,
    breach_at       BIGINT,
    warn_at         BIGINT,
    fulfilled_at    BIGINT,
    determined_at   BIGINT,
    transitions     BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    CONSTRAINT promise_instances_case_id_kind_ordinal_key UNIQUE (case_id, kind, ordinal)
);
CREATE INDEX promise_instances_determined_idx ON promise_instances (determined_at) WHERE determined_at IS NOT NULL;

-- The nearest deadline of a case's owed promises, for queues sorted by it.
ALTER TABLE cases ADD COLUMN next_breach_at BIGINT;
-- When the case's clocks were last evaluated. Time on a case only moves
-- forward: a change is never stamped before it, even if another replica's
-- clock runs a little ahead (see kept-store cases::case_now).
ALTER TABLE cases ADD COLUMN clocks_at BIGINT;
CREATE INDEX cases_next_breach_idx ON cases (next_breach_at, id) WHERE next_breach_at IS NOT NULL;

-- "I will call you back by 15:00": a promise with an owner and a deadline.
CREATE TABLE agent_promises (
    id            INTEGER PRIMARY KEY,
    case_id       BIGINT  NOT NULL REFERENCES cases (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('callback', 'update')),
    description   TEXT    NOT NULL,
    owner_id      BIGINT  NOT NULL REFERENCES users (id),
    made_at       BIGINT  NOT NULL,
    due_at        BIGINT  NOT NULL,
    fulfilled_at  BIGINT,
    cancelled_at  BIGINT
);
CREATE INDEX agent_promises_case_idx ON agent_promises (case_id);

-- Due work. One row per (kind, case): the promise clock job of a case runs
-- at its next warning or breach and is moved whenever the clocks change.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL,
    case_id       BIGINT  NOT NULL REFERENCES cases (id),
    run_at        BIGINT  NOT NULL,
    attempts      BIGINT  NOT NULL DEFAULT 0,
    locked_by     TEXT,
    locked_until  BIGINT,
    last_error    TEXT,
    CONSTRAINT jobs_kind_case_id_key UNIQUE (kind, case_id)
);
CREATE INDEX jobs_run_at_idx ON jobs (run_at);

-- A breach opens recovery: a task with its own promise, owned by the
-- assignee (or the team's lead), closed with an outcome.
CREATE TABLE recovery_tasks (
    id            INTEGER PRIMARY KEY,
    case_id       BIGINT  NOT NULL REFERENCES cases (id),
    instance_id   BIGINT  REFERENCES promise_instances (id),
    reason        TEXT    NOT NULL,
    owner_id      BIGINT  REFERENCES users (id),
    opened_at     BIGINT  NOT NULL,
    due_at        BIGINT  NOT NULL,
    first_action_at BIGINT,
    closed_at     BIGINT,
    outcome       TEXT    CHECK (outcome IN ('recovered', 'not_recovered')),
    note          TEXT,
    CONSTRAINT recovery_tasks_instance_id_key UNIQUE (instance_id)
);
CREATE INDEX recovery_tasks_case_idx ON recovery_tasks (case_id);

CREATE TABLE recovery_actions (
    id            INTEGER PRIMARY KEY,
    task_id       BIGINT  NOT NULL REFERENCES recovery_tasks (id),
    case_id       BIGINT  NOT NULL REFERENCES cases (id),
    actor_id      BIGINT  NOT NULL REFERENCES users (id),
    kind          TEXT    NOT NULL,
    amount_cents  BIGINT,
    note          TEXT    NOT NULL,
    at            BIGINT  NOT NULL
);
CREATE INDEX recovery_actions_task_idx ON recovery_actions (task_id);

-- How far each role may go without approval (e.g. goodwill credit up to 5000 cents).
CREATE TABLE recovery_limits (
    role          TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    max_cents     BIGINT  NOT NULL,
    CONSTRAINT recovery_limits_role_kind_key UNIQUE (role, kind)
);
INSERT INTO recovery_limits (role, kind, max_cents) VALUES
    ('agent', 'goodwill_credit', 5000), ('manager', 'goodwill_credit', 50000), ('admin', 'goodwill_credit', 500000);

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users (id),
    case_id     BIGINT  REFERENCES cases (id),
    kind        TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    read_at     BIGINT
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);

-- Promise events carry a unique key: even two replicas racing on one
-- deadline can append a breach only once.
ALTER TABLE events ADD COLUMN dedup_key TEXT;
CREATE UNIQUE INDEX events_dedup_key_key ON events (dedup_key) WHERE dedup_key IS NOT NULL;
