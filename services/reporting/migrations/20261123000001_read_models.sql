-- One row per case, the base of every report. Counts are computed from it (indexed) rather than
-- kept in counter rows, which concurrent consumers would all queue on.
CREATE TABLE case_facts (
    case_id     UUID PRIMARY KEY,
    reference   TEXT NOT NULL,
    site        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    class       TEXT NOT NULL,
    category    TEXT NOT NULL,
    severity    TEXT NOT NULL,
    department  TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    opened_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_facts_site_received ON case_facts (site, received_at);
