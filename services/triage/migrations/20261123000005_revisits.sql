-- Revisits (回访, domain.md §5): tasks, their call attempts, and customers who declined revisits.
CREATE TABLE revisits (
    id             UUID PRIMARY KEY,
    case_id        UUID NOT NULL REFERENCES cases (id),
    case_reference TEXT NOT NULL,
    site           TEXT NOT NULL,
    -- after_close | after_service | warranty_cadence | key_account | manual | follow_up
    reason         TEXT NOT NULL,
    sequence       INT NOT NULL,
    -- When to call; moved by no-answer retries and call-backs.
    due_at         TIMESTAMPTZ NOT NULL,
    -- open | done | unreachable | declined | cancelled | closed
    status         TEXT NOT NULL DEFAULT 'open',
    required_role  TEXT NOT NULL,
    contact_key    TEXT,
    time_zone      TEXT NOT NULL,
    attempts       INT NOT NULL DEFAULT 0,
    method         TEXT,
    score          INT,
    satisfied      BOOLEAN,
    -- { answers, comments, signature } of the outcome
    outcome        JSONB,
    note           TEXT,
    closed_reason  TEXT,
    previous_id    UUID REFERENCES revisits (id),
    created_by     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at   TIMESTAMPTZ,
    -- The natural key: one task per announced revisit, whatever the redeliveries.
    UNIQUE (case_id, reason, sequence)
);
CREATE INDEX revisits_queue ON revisits (due_at, id) WHERE status = 'open';
CREATE INDEX revisits_case ON revisits (case_id);
CREATE INDEX revisits_contact ON revisits (contact_key) WHERE contact_key IS NOT NULL;

CREATE TABLE revisit_attempts (
    id           BIGSERIAL PRIMARY KEY,
    revisit_id   UUID NOT NULL REFERENCES revisits (id),
    at           TIMESTAMPTZ NOT NULL,
    actor        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    call_back_at TIMESTAMPTZ,
    note         TEXT
);
CREATE INDEX revisit_attempts_revisit ON revisit_attempts (revisit_id, id);

-- Customers who asked not to be called for revisits again (003 篇4 §5.2), by normalised contact.
CREATE TABLE revisit_do_not_call (
    contact_key TEXT PRIMARY KEY,
    since       TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    revisit_id  UUID REFERENCES revisits (id)
);
