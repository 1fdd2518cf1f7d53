-- When revisits (回访) are due (domain.md §5): one timer per case and sequence, fired once into
-- `revisit.due` through the outbox. Triage owns the revisit tasks themselves.
CREATE TABLE revisit_timers (
    id             UUID PRIMARY KEY,
    case_id        UUID NOT NULL,
    case_reference TEXT NOT NULL,
    site           TEXT NOT NULL,
    correlation_id UUID NOT NULL,
    reason         TEXT NOT NULL,
    sequence       INT NOT NULL,
    due_at         TIMESTAMPTZ NOT NULL,
    -- pending → fired
    state          TEXT NOT NULL DEFAULT 'pending',
    fired_at       TIMESTAMPTZ,
    late           BOOLEAN NOT NULL DEFAULT false,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (case_id, sequence)
);
CREATE INDEX revisit_timers_due ON revisit_timers (due_at) WHERE state = 'pending';
CREATE INDEX revisit_timers_case ON revisit_timers (case_id);

-- Cases of key accounts (tier from `[revisit.key_accounts]` at case.opened), so their close plans the
-- key-account cadence; no contact data is kept here.
CREATE TABLE revisit_key_cases (
    case_id UUID PRIMARY KEY,
    tier    TEXT NOT NULL
);
