-- Surveys (issue 5): CSAT and CES after a solved case, relationship NPS on a
-- schedule, and closing the loop on dissatisfied answers. docs/SURVEYS.md.

-- The customer's language, for survey mail and pages ('en', 'de').
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'en';

CREATE TABLE survey_definitions (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('csat', 'ces', 'nps')),
    name            TEXT    NOT NULL,
    question        TEXT    NOT NULL,
    -- NULL: the survey asks for no comment.
    comment_prompt  TEXT,
    -- JSON array of the reasons offered on a dissatisfied score.
    reasons         TEXT    NOT NULL DEFAULT '[]',
    delay_minutes   BIGINT  NOT NULL DEFAULT 0,
    sample_percent  BIGINT  NOT NULL DEFAULT 100 CHECK (sample_percent BETWEEN 0 AND 100),
    -- NPS only: days between two invitations to the same contact.
    every_days      BIGINT,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

-- One row: the organisation's survey rules.
CREATE TABLE survey_settings (
    id                     BIGINT  PRIMARY KEY CHECK (id = 1),
    fatigue_days           BIGINT  NOT NULL DEFAULT 30,
    csat_threshold         BIGINT  NOT NULL DEFAULT 2,
    ces_threshold          BIGINT  NOT NULL DEFAULT 3,
    nps_threshold          BIGINT  NOT NULL DEFAULT 6,
    followup_owner         TEXT    NOT NULL DEFAULT 'lead' CHECK (followup_owner IN ('lead', 'agent')),
    followup_minutes       BIGINT  NOT NULL DEFAULT 480,
    followup_business      BOOLEAN NOT NULL DEFAULT TRUE,
    change_window_minutes  BIGINT  NOT NULL DEFAULT 60,
    expiry_days            BIGINT  NOT NULL DEFAULT 14,
    updated_at             BIGINT  NOT NULL
);
INSERT INTO survey_settings (id, updated_at) VALUES (1, 0);

-- One invitation per survey sent (or decided against). The attribution
-- (agent, team, channel, case type, tier) is copied when it is created, so
-- later reassignments do not move a score to someone else.
CREATE TABLE survey_invitations (
    id                INTEGER PRIMARY KEY,
    definition_id     BIGINT  NOT NULL REFERENCES survey_definitions (id),
    kind              TEXT    NOT NULL,
    -- NULL for relationship NPS.
    case_id           BIGINT  REFERENCES cases (id),
    contact_id        BIGINT  NOT NULL REFERENCES users (id),
    account_id        BIGINT  NOT NULL REFERENCES accounts (id),
    agent_id          BIGINT  REFERENCES users (id),
    team_id           BIGINT  REFERENCES teams (id),
    channel           TEXT,
    case_type         TEXT,
    account_tier      TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('scheduled', 'sent', 'skipped_fatigue', 'skipped_sample', 'skipped_reopened', 'skipped_inactive', 'answered', 'expired')),
    -- SHA-256 of the link's token; set when sent.
    token_hash        TEXT,
    send_at           BIGINT  NOT NULL,
    sent_at           BIGINT,
    expires_at        BIGINT,
    -- A re-survey after recovery: sent regardless of sample and fatigue.
    resurvey_task_id  BIGINT  REFERENCES recovery_tasks (id),
    created_at        BIGINT  NOT NULL,
    CONSTRAINT survey_invitations_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX survey_invitations_due_idx ON survey_invitations (status, send_at);
CREATE INDEX survey_invitations_contact_idx ON survey_invitations (contact_id, sent_at);
CREATE INDEX survey_invitations_case_idx ON survey_invitations (case_id);
CREATE INDEX survey_invitations_definition_idx ON survey_invitations (definition_id, contact_id, created_at);

CREATE TABLE survey_responses (
    id                INTEGER PRIMARY KEY,
    invitation_id     BIGINT  NOT NULL REFERENCES survey_invitations (id),
    definition_id     BIGINT  NOT NULL REFERENCES survey_definitions (id),
    kind              TEXT    NOT NULL,
    score             BIGINT  NOT NULL,
    comment           TEXT,
    reasons           TEXT    NOT NULL DEFAULT '[]',
    dissatisfied      BOOLEAN NOT NULL,
    answered_at       BIGINT  NOT NULL,
    changed_at        BIGINT,
    case_id           BIGINT  REFERENCES cases (id),
    contact_id        BIGINT  NOT NULL REFERENCES users (id),
    account_id        BIGINT  NOT NULL REFERENCES accounts (id),
    agent_id          BIGINT  REFERENCES users (id),
    team_id           BIGINT  REFERENCES teams (id),
    channel           TEXT,
    case_type         TEXT,
    account_tier      TEXT    NOT NULL,
    -- The task following this answer up (opened by it, or an open breach task it joined).
    recovery_task_id  BIGINT  REFERENCES recovery_tasks (id),
    CONSTRAINT survey_responses_invitation_id_key UNIQUE (invitation_id)
);
CREATE INDEX survey_responses_answered_idx ON survey_responses (answered_at);
CREATE INDEX survey_responses_agent_idx ON survey_responses (agent_id, answered_at);
CREATE INDEX survey_responses_team_idx ON survey_responses (team_id, answered_at);

-- A follow-up opened by a dissatisfied answer names it; breach tasks leave it NULL.
ALTER TABLE recovery_tasks ADD COLUMN response_id BIGINT REFERENCES survey_responses (id);

-- Praise turned into recognition for the agent.
CREATE TABLE kudos (
    id           INTEGER PRIMARY KEY,
    response_id  BIGINT  NOT NULL REFERENCES survey_responses (id),
    agent_id     BIGINT  NOT NULL REFERENCES users (id),
    given_by     BIGINT  REFERENCES users (id),
    note         TEXT,
    created_at   BIGINT  NOT NULL,
    CONSTRAINT kudos_response_id_key UNIQUE (response_id)
);
CREATE INDEX kudos_agent_idx ON kudos (agent_id, created_at);
