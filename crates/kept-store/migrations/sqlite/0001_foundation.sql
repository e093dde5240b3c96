-- kept foundation schema (SQLite). The PostgreSQL twin has the same name and
-- the same tables; differences are only where the engines differ.
--
-- Conventions: instants are BIGINT milliseconds since the Unix epoch (UTC);
-- enumerations are TEXT with CHECK constraints (their string form is the one
-- used in the API); unique constraints are named <table>_<columns>_key so both
-- engines report the same name on conflict.

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    tier        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
-- Account names are unique regardless of case: "ACME" and "Acme" are one customer.
CREATE UNIQUE INDEX accounts_name_key ON accounts (lower(name));

CREATE TABLE account_domains (
    domain      TEXT    NOT NULL,
    account_id  BIGINT  NOT NULL REFERENCES accounts (id),
    CONSTRAINT account_domains_domain_key UNIQUE (domain)
);
CREATE INDEX account_domains_account_idx ON account_domains (account_id);

-- Staff and customer contacts share one identity (as in Zendesk): messages,
-- sessions and tokens name anyone with one id. Contacts, and only contacts,
-- belong to an account.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    email          TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('admin', 'manager', 'agent', 'contact')),
    account_id     BIGINT  REFERENCES accounts (id),
    password_hash  TEXT,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_contact_account_check CHECK ((role = 'contact') = (account_id IS NOT NULL))
);
CREATE INDEX users_account_idx ON users (account_id);

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    internal    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE UNIQUE INDEX teams_name_key ON teams (lower(name));

CREATE TABLE team_members (
    team_id     BIGINT  NOT NULL REFERENCES teams (id),
    user_id     BIGINT  NOT NULL REFERENCES users (id),
    created_at  BIGINT  NOT NULL,
    CONSTRAINT team_members_team_id_user_id_key UNIQUE (team_id, user_id)
);
CREATE INDEX team_members_user_idx ON team_members (user_id);

-- Browser sessions. Only a SHA-256 of the cookie value is stored, so a copy of
-- the database cannot be used to log in.
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    token_hash    TEXT    NOT NULL,
    user_id       BIGINT  NOT NULL REFERENCES users (id),
    csrf_token    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- API tokens: shown once at creation, stored as SHA-256, revocable.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users (id),
    name          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL,
    -- The first characters of the token, so a person can tell their tokens apart.
    prefix        TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- The current state of each case: a projection of its events, kept in the
-- same transaction as the events that change it.
CREATE TABLE cases (
    id                  INTEGER PRIMARY KEY,
    subject             TEXT    NOT NULL,
    status              TEXT    NOT NULL CHECK (status IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')),
    -- 0 low, 1 normal, 2 high, 3 urgent: an integer so that cases sort by urgency.
    priority            BIGINT  NOT NULL CHECK (priority BETWEEN 0 AND 3),
    channel             TEXT    NOT NULL CHECK (channel IN ('email', 'web', 'phone', 'chat', 'api', 'internal')),
    case_type           TEXT    NOT NULL,
    account_id          BIGINT  NOT NULL REFERENCES accounts (id),
    requester_id        BIGINT  NOT NULL REFERENCES users (id),
    team_id             BIGINT  NOT NULL REFERENCES teams (id),
    assignee_id         BIGINT  REFERENCES users (id),
    parent_case_id      BIGINT  REFERENCES cases (id),
    requesting_team_id  BIGINT  REFERENCES teams (id),
    follow_up_of        BIGINT  REFERENCES cases (id),
    created_by          BIGINT  REFERENCES users (id),
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL,
    solved_at           BIGINT,
    closed_at           BIGINT
);
CREATE INDEX cases_team_status_idx ON cases (team_id, status, updated_at);
CREATE INDEX cases_assignee_status_idx ON cases (assignee_id, status, updated_at);
CREATE INDEX cases_account_idx ON cases (account_id, created_at);
CREATE INDEX cases_requesting_team_idx ON cases (requesting_team_id) WHERE requesting_team_id IS NOT NULL;
CREATE INDEX cases_parent_idx ON cases (parent_case_id) WHERE parent_case_id IS NOT NULL;
CREATE INDEX cases_created_idx ON cases (created_at, id);
CREATE INDEX cases_updated_idx ON cases (updated_at, id);

CREATE TABLE case_tags (
    case_id  BIGINT NOT NULL REFERENCES cases (id),
    tag      TEXT   NOT NULL,
    CONSTRAINT case_tags_case_id_tag_key UNIQUE (case_id, tag)
);
CREATE INDEX case_tags_tag_idx ON case_tags (tag, case_id);

CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    case_id      BIGINT  NOT NULL REFERENCES cases (id),
    author_id    BIGINT  NOT NULL REFERENCES users (id),
    -- Frozen at write time: metrics must not change when a person's role does.
    author_role  TEXT    NOT NULL CHECK (author_role IN ('customer', 'agent', 'system')),
    public       BOOLEAN NOT NULL,
    body         TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL
);
CREATE INDEX messages_case_idx ON messages (case_id, id);

-- The append-only audit trail and the source of every metric.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    case_id       BIGINT  NOT NULL REFERENCES cases (id),
    kind          TEXT    NOT NULL,
    actor_id      BIGINT  REFERENCES users (id),
    at            BIGINT  NOT NULL,
    before_value  TEXT,
    after_value   TEXT,
    data          TEXT    NOT NULL DEFAULT 'null'
);
CREATE INDEX events_case_idx ON events (case_id, id);
CREATE INDEX events_at_idx ON events (at);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

-- A retried POST /cases with the same Idempotency-Key returns the first case.
CREATE TABLE idempotency_keys (
    user_id      BIGINT  NOT NULL REFERENCES users (id),
    key          TEXT    NOT NULL,
    -- SHA-256 of the request body: the same key with another body is refused.
    fingerprint  TEXT    NOT NULL,
    case_id      BIGINT  NOT NULL REFERENCES cases (id),
    created_at   BIGINT  NOT NULL,
    CONSTRAINT idempotency_keys_user_id_key_key UNIQUE (user_id, key)
);

-- Full-text search over subjects and messages. One row per searchable text:
-- rowid = message id for messages, = -case id for a case's subject, so a
-- subject can be replaced when it changes. diacritics are kept, matching
-- PostgreSQL's 'simple' configuration.
CREATE VIRTUAL TABLE search_docs USING fts5(
    body,
    case_id UNINDEXED,
    public UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0'
);
