-- Periodic reports announced (`report.due`): one row per report, so each is announced once.
CREATE TABLE report_timers (
    kind         TEXT NOT NULL,
    period       TEXT NOT NULL,
    site         TEXT NOT NULL DEFAULT '',
    due_at       TIMESTAMPTZ NOT NULL,
    announced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, period, site)
);
