-- Triage's view of the scheduler's clocks (`deadline.changed` snapshots, the newest revision kept), so the case
-- list can be sorted by the nearest deadline and say which cases are overdue now, and the case shows its
-- deadlines without asking the scheduler.
CREATE TABLE case_clocks (
    case_id    UUID NOT NULL,
    clock      TEXT NOT NULL,
    -- running | warned | paused | breached | met | breached_stopped
    status     TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    due_at     TIMESTAMPTZ NOT NULL,
    level      INTEGER NOT NULL,
    stopped_at TIMESTAMPTZ,
    revision   BIGINT NOT NULL,
    PRIMARY KEY (case_id, clock)
);

-- The earliest due time among the case's counting clocks (not paused, not stopped); NULL when none counts.
ALTER TABLE cases ADD COLUMN next_due_at TIMESTAMPTZ, ADD COLUMN next_due_clock TEXT;
-- "My work" sorted by the nearest deadline: keyset over (next_due_at, id), cases without one after.
CREATE INDEX cases_next_due ON cases (next_due_at, id);
-- Scoped lists (a handler's department and site, an assignee's own) walk the newest first within the scope.
CREATE INDEX cases_department_opened ON cases (department, opened_at DESC, id DESC);
CREATE INDEX cases_assignee_opened ON cases (assignee, opened_at DESC, id DESC) WHERE assignee IS NOT NULL;

-- `overdue_level` now means overdue now: the highest level of a clock still running past its due time (0 once
-- those clocks stop). Cases breached before this migration keep the level they reached until their next change.
