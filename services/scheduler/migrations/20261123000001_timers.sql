-- Durable timers. The partial index on pending timers makes firing cost depend on how many are due.
CREATE TABLE timers (
    id             UUID PRIMARY KEY,
    case_id        UUID NOT NULL,
    case_reference TEXT NOT NULL,
    site           TEXT NOT NULL,
    clock          TEXT NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL,
    due_at         TIMESTAMPTZ NOT NULL,
    level          INT NOT NULL DEFAULT 1,
    -- pending → fired | stopped
    state          TEXT NOT NULL DEFAULT 'pending',
    fired_at       TIMESTAMPTZ,
    late           BOOLEAN NOT NULL DEFAULT false,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (case_id, clock, level)
);
CREATE INDEX timers_due ON timers (due_at) WHERE state = 'pending';
CREATE INDEX timers_case ON timers (case_id);
CREATE INDEX timers_reference ON timers (case_reference);
