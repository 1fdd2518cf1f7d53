CREATE TABLE cases (
    id           UUID PRIMARY KEY,
    reference    TEXT NOT NULL UNIQUE,
    feedback_id  UUID NOT NULL UNIQUE,
    site         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    status       TEXT NOT NULL,
    class        TEXT NOT NULL,
    category     TEXT NOT NULL,
    severity     TEXT NOT NULL,
    department   TEXT NOT NULL,
    assignee     TEXT,
    -- Which rule decided the classification, and why (explainable decisions).
    decided_by   JSONB NOT NULL,
    customer     JSONB NOT NULL,
    contact_key  TEXT,
    subject      TEXT,
    content      TEXT NOT NULL,
    details      JSONB NOT NULL DEFAULT '{}'::jsonb,
    received_at  TIMESTAMPTZ NOT NULL,
    opened_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX cases_site_status ON cases (site, status);
CREATE INDEX cases_department_status ON cases (department, status);
CREATE INDEX cases_contact_key ON cases (contact_key) WHERE contact_key IS NOT NULL;

-- Everything that changes a case: who, when, what (domain.md §7).
CREATE TABLE case_history (
    id         BIGSERIAL PRIMARY KEY,
    case_id    UUID NOT NULL REFERENCES cases (id),
    at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX case_history_case ON case_history (case_id, id);
