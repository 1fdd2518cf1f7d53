-- Phone calls reported by the telephony system (CTI) or registered by agents.
CREATE TABLE calls (
    call_id        TEXT PRIMARY KEY,
    site           TEXT NOT NULL,
    caller         TEXT NOT NULL,
    contact_key    TEXT,
    callee         TEXT,
    status         TEXT NOT NULL,
    recording_url  TEXT,
    transcription  TEXT,
    started_at     TIMESTAMPTZ NOT NULL,
    -- The customer as last known from the register, found by the caller's normalised number.
    prefill        JSONB NOT NULL DEFAULT '{}'::jsonb,
    feedback_id    UUID,
    reference      TEXT,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX calls_contact_key ON calls (contact_key);
