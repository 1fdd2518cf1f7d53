-- Revisits (domain.md §5): when they fell due and how they ended, for the revisit rate and satisfaction.
CREATE TABLE revisit_due_facts (
    case_id  UUID NOT NULL,
    reason   TEXT NOT NULL,
    sequence INT NOT NULL,
    site     TEXT NOT NULL,
    due_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (case_id, reason, sequence)
);
CREATE INDEX revisit_due_facts_due ON revisit_due_facts (due_at);

CREATE TABLE revisit_facts (
    revisit_id   UUID PRIMARY KEY,
    case_id      UUID NOT NULL,
    site         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    sequence     INT NOT NULL,
    method       TEXT NOT NULL,
    score        SMALLINT,
    satisfied    BOOLEAN NOT NULL,
    attempts     INT NOT NULL,
    actor        TEXT NOT NULL,
    completed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX revisit_facts_completed ON revisit_facts (completed_at);

-- At least one revisit of this case reached an outcome.
ALTER TABLE case_facts ADD COLUMN revisited BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX case_facts_closed ON case_facts (closed_at) WHERE closed_at IS NOT NULL;
