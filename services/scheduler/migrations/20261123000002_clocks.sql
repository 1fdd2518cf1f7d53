-- SLA clocks (domain::clock::ClockState per case and clock) replace the single registration timer.
DROP TABLE timers;

CREATE TABLE clocks (
    id             UUID PRIMARY KEY,
    case_id        UUID NOT NULL,
    case_reference TEXT NOT NULL,
    site           TEXT NOT NULL,
    clock          TEXT NOT NULL,
    department     TEXT NOT NULL,
    class          TEXT NOT NULL,
    category       TEXT NOT NULL,
    severity       TEXT NOT NULL,
    state          JSONB NOT NULL,
    status         TEXT NOT NULL,
    due_at         TIMESTAMPTZ NOT NULL,
    -- The next warning/breach/escalation to fire; NULL when the clock has nothing left to fire.
    next_fire_at   TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (case_id, clock)
);
-- Firing reads only what is due: cost follows the number of due timers, not of open cases.
CREATE INDEX clocks_next_fire ON clocks (next_fire_at) WHERE next_fire_at IS NOT NULL;
CREATE INDEX clocks_case ON clocks (case_id);
CREATE INDEX clocks_reference ON clocks (case_reference);
