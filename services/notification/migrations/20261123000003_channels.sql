-- Multipart email (HTML alternative), SMS (template variables for template-code gateways, quiet hours),
-- the failure event (correlation id, recipient kind) and what notification knows of each case.
ALTER TABLE deliveries ADD COLUMN body_html TEXT;
ALTER TABLE deliveries ADD COLUMN template_vars JSONB NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE deliveries ADD COLUMN recipient_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN correlation_id UUID;
-- SMS to customers is held outside quiet hours, judged in this time zone (the site's).
ALTER TABLE deliveries ADD COLUMN quiet_hours_tz TEXT;
CREATE INDEX deliveries_due_by_channel ON deliveries (channel, next_attempt_at) WHERE status IN ('pending', 'sending');

-- Claim amount of the feedback (for approvers) beside the customer's contact.
ALTER TABLE case_contacts ADD COLUMN claim_amount NUMERIC;

-- The case's department and assignee as last announced (deadline events name only the case).
CREATE TABLE cases (
    case_id    UUID PRIMARY KEY,
    reference  TEXT NOT NULL,
    department TEXT NOT NULL,
    assignee   TEXT,
    class      TEXT NOT NULL,
    category   TEXT NOT NULL,
    severity   TEXT NOT NULL,
    subject    TEXT,
    summary    TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
