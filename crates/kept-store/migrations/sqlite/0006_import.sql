-- History import (docs/IMPORT.md): which case each external id became, so
-- that importing a file again updates its cases instead of duplicating them.
CREATE TABLE case_imports (
    -- The case's id in the desk it came from.
    external_id    TEXT    NOT NULL,
    case_id        BIGINT  NOT NULL REFERENCES cases (id),
    -- The latest instant the files have brought (created_at or an event's
    -- time): a re-import appends only events after it, since the event log
    -- cannot be rewritten.
    last_event_at  BIGINT  NOT NULL,
    -- The fields a re-import may change, as the file last said them (JSON):
    -- a field changes only when a newer file says something different, so
    -- kept's own later changes survive re-importing an unchanged line.
    fields         TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    CONSTRAINT case_imports_external_id_key UNIQUE (external_id),
    CONSTRAINT case_imports_case_id_key UNIQUE (case_id)
);
