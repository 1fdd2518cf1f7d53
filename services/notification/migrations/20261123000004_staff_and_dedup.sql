-- Staff accounts as triage announces them (`staff.changed`): the directory's people beside the configured
-- ones. A snapshot per account; only a higher revision replaces it.
CREATE TABLE staff (
    user_id    TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT,
    phone      TEXT,
    language   TEXT NOT NULL,
    roles      TEXT[] NOT NULL DEFAULT '{}',
    department TEXT,
    sites      TEXT[] NOT NULL DEFAULT '{}',
    active     BOOLEAN NOT NULL,
    revision   BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One notification per natural event, recipient, channel and template: an assignee who also approves the
-- claim gets both messages of the same case.opened.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_once;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_once UNIQUE (dedup_key, recipient, channel, template);

-- Threading looks up what was sent under a reference; the delivery log lists by reference too.
CREATE INDEX deliveries_reference ON deliveries (case_reference);

-- Approvers and the amount now come from case.opened (triage decides who approves); the copy taken from
-- feedback.received is no longer read.
ALTER TABLE case_contacts DROP COLUMN claim_amount;
