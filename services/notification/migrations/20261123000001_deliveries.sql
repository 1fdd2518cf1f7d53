-- One row per (event, recipient, channel): the delivery log and the send queue in one.
CREATE TABLE deliveries (
    id                  UUID PRIMARY KEY,
    event_id            UUID NOT NULL,
    event_type          TEXT NOT NULL,
    site                TEXT NOT NULL,
    case_id             UUID,
    case_reference      TEXT,
    recipient           TEXT NOT NULL,
    recipient_masked    TEXT NOT NULL,
    channel             TEXT NOT NULL,
    template            TEXT NOT NULL,
    language            TEXT NOT NULL,
    subject             TEXT NOT NULL,
    body_text           TEXT NOT NULL,
    message_id          TEXT NOT NULL,
    -- pending → sending → sent | failed (retried while attempts remain)
    status              TEXT NOT NULL DEFAULT 'pending',
    attempts            INT NOT NULL DEFAULT 0,
    next_attempt_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error          TEXT,
    provider_message_id TEXT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at             TIMESTAMPTZ,
    UNIQUE (event_id, recipient, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_case ON deliveries (case_id);
