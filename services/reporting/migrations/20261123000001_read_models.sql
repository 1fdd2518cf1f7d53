-- Cases opened per site and local day of receipt.
CREATE TABLE daily_cases (
    site  TEXT NOT NULL,
    day   DATE NOT NULL,
    cases BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site, day)
);

-- One row per case, the base of every later report.
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
