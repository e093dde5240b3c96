-- Email, the channel customers use most (issue 4).

-- Every email kept sent or received, one row each: its Message-ID threads
-- replies back to their case, and the same inbound Message-ID twice is
-- stored once.
CREATE TABLE mail_messages (
    id              INTEGER PRIMARY KEY,
    direction       TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    message_id      TEXT    NOT NULL,
    case_id         BIGINT  REFERENCES cases (id),
    -- The conversation message it carried (a reply out, a customer message in).
    message_row_id  BIGINT  REFERENCES messages (id),
    -- out: reply, acknowledgement, survey, notification; in: what became of it.
    kind            TEXT    NOT NULL,
    -- To (out) or from (in).
    address         TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    CONSTRAINT mail_messages_message_id_key UNIQUE (message_id)
);
CREATE INDEX mail_messages_case_idx ON mail_messages (case_id, id);

-- Mail to send, written in the transaction of the change that causes it and
-- sent by a job with retries: a broken SMTP server delays mail, never loses it.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    mail_id          BIGINT  NOT NULL REFERENCES mail_messages (id),
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT  NOT NULL,
    locked_by        TEXT,
    locked_until     BIGINT,
    last_error       TEXT,
    sent_at          BIGINT,
    created_at       BIGINT  NOT NULL,
    CONSTRAINT outbox_mail_id_key UNIQUE (mail_id)
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);

CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    case_id       BIGINT  NOT NULL REFERENCES cases (id),
    message_id    BIGINT  REFERENCES messages (id),
    filename      TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size          BIGINT  NOT NULL,
    sha256        TEXT    NOT NULL,
    content       BLOB    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX attachments_case_idx ON attachments (case_id, id);
