-- Every report (feedback) that belongs to a case: the first, and the duplicates linked to it.
CREATE TABLE case_reports (
    feedback_id UUID PRIMARY KEY,
    reference   TEXT NOT NULL UNIQUE,
    case_id     UUID NOT NULL REFERENCES cases (id),
    channel     TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    linked_by   TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX case_reports_case ON case_reports (case_id);
ALTER TABLE cases ADD COLUMN report_count INT NOT NULL DEFAULT 1;
CREATE INDEX cases_contact_open ON cases (contact_key, opened_at DESC) WHERE status NOT IN ('closed', 'rejected');
