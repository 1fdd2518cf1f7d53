-- Every event reporting consumed, in arrival order: the read models can be dropped and rebuilt from it
-- (`reporting rebuild`), so a new report can be computed over history.
CREATE TABLE event_log (
    seq        BIGSERIAL PRIMARY KEY,
    event_id   UUID NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    envelope   JSONB NOT NULL,
    logged_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- What intake registered, per feedback (products, claims; the customer only as a keyed hash, for repeats).
CREATE TABLE feedback_facts (
    feedback_id     UUID PRIMARY KEY,
    reference       TEXT NOT NULL,
    site            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    product_code    TEXT,
    batch           TEXT,
    claim_amount    NUMERIC,
    claim_currency  TEXT,
    return_quantity BIGINT,
    customer_hash   TEXT
);

ALTER TABLE case_facts
    ADD COLUMN feedback_id     UUID,
    ADD COLUMN status          TEXT NOT NULL DEFAULT 'new',
    ADD COLUMN validity        TEXT,
    ADD COLUMN assignee        TEXT,
    ADD COLUMN outcome         TEXT,
    ADD COLUMN resolved_at     TIMESTAMPTZ,
    ADD COLUMN closed_at       TIMESTAMPTZ,
    ADD COLUMN reopened        INT NOT NULL DEFAULT 0,
    ADD COLUMN duplicates      INT NOT NULL DEFAULT 0,
    ADD COLUMN cause           TEXT,
    ADD COLUMN claim_status    TEXT,
    ADD COLUMN claim_rejection TEXT,
    ADD COLUMN last_change_at  TIMESTAMPTZ,
    -- Copied from feedback_facts (whichever event comes second fills them), so a report scans one table.
    ADD COLUMN product_code    TEXT,
    ADD COLUMN customer_hash   TEXT,
    ADD COLUMN claim_amount    NUMERIC,
    ADD COLUMN claim_currency  TEXT,
    ADD COLUMN return_quantity BIGINT,
    -- Same customer, same category, complained within the repeat window before (judged when both are known).
    ADD COLUMN repeat          BOOLEAN NOT NULL DEFAULT false,
    -- Clocks of this case that ran out (stopped late or overdue now).
    ADD COLUMN clocks_breached INT NOT NULL DEFAULT 0;
CREATE INDEX case_facts_received ON case_facts (received_at);
CREATE INDEX case_facts_feedback ON case_facts (feedback_id);
CREATE INDEX case_facts_customer ON case_facts (customer_hash, category, received_at) WHERE customer_hash IS NOT NULL;

-- Cases per site and local day, for trends over many months without scanning them.
CREATE TABLE case_days (
    site TEXT NOT NULL,
    day  DATE NOT NULL,
    n    INT NOT NULL,
    PRIMARY KEY (day, site)
);

-- One row per SLA clock of a case (deadline.breached / deadline.stopped).
CREATE TABLE clock_facts (
    case_id         UUID NOT NULL,
    clock           TEXT NOT NULL,
    reference       TEXT NOT NULL,
    site            TEXT NOT NULL,
    department      TEXT,
    started_at      TIMESTAMPTZ,
    due_at          TIMESTAMPTZ NOT NULL,
    stopped_at      TIMESTAMPTZ,
    met             BOOLEAN,
    working_seconds BIGINT,
    breached_at     TIMESTAMPTZ,
    level           INT NOT NULL DEFAULT 0,
    -- The case's arrival (from case_facts), so timeliness selects a period's clocks by index.
    received_at     TIMESTAMPTZ,
    PRIMARY KEY (case_id, clock)
);
CREATE INDEX clock_facts_received ON clock_facts (received_at);
CREATE INDEX clock_facts_overdue ON clock_facts (due_at) WHERE breached_at IS NOT NULL AND stopped_at IS NULL;

-- Reports as issued: a report issued for a period never changes; re-issuing makes a new version.
CREATE TABLE issued_reports (
    kind      TEXT NOT NULL,
    period    TEXT NOT NULL,
    site      TEXT NOT NULL DEFAULT '',
    version   INT NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL,
    issued_by TEXT NOT NULL,
    body      JSONB NOT NULL,
    PRIMARY KEY (kind, period, site, version)
);
