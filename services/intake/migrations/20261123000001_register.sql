-- The feedback register (《顾客反馈信息登记表》, domain.md §1).
CREATE TABLE feedback (
    id                  UUID PRIMARY KEY,
    reference           TEXT NOT NULL UNIQUE,
    site                TEXT NOT NULL,
    channel             TEXT NOT NULL,
    received_at         TIMESTAMPTZ NOT NULL,
    registered_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    registered_by       TEXT,
    customer_name       TEXT,
    customer_phone      TEXT,
    customer_email      TEXT,
    contact_key         TEXT,
    anonymous           BOOLEAN NOT NULL DEFAULT false,
    language            TEXT NOT NULL,
    subject             TEXT,
    content             TEXT NOT NULL,
    -- product, order, claim, adverse_reaction as given (validated) by the channel.
    details             JSONB NOT NULL DEFAULT '{}'::jsonb,
    status              TEXT NOT NULL DEFAULT 'registered',
    status_token_sha256 TEXT NOT NULL
);
CREATE INDEX feedback_site_received ON feedback (site, received_at);
CREATE INDEX feedback_contact_key ON feedback (contact_key) WHERE contact_key IS NOT NULL;

-- Idempotency-Key: the same key and body answer the same; another body is a conflict.
CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status       SMALLINT NOT NULL,
    response     JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Highest reference number handed out per site and local day.
CREATE TABLE reference_blocks (
    site TEXT NOT NULL,
    day  DATE NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (site, day)
);
