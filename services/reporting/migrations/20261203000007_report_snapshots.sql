-- Live reports as last built (report::snapshot): served while fresh, rebuilt in the background while people read
-- them. `site` is empty for all sites. A cache: deleting rows loses nothing.
CREATE TABLE report_snapshots (
    kind         TEXT NOT NULL,
    period       TEXT NOT NULL,
    site         TEXT NOT NULL,
    report       JSONB NOT NULL,
    built_at     TIMESTAMPTZ NOT NULL,
    last_read_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, period, site)
);
