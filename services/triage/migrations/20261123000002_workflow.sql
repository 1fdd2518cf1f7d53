-- The workflow state (domain::workflow::CaseState) beside the columns lists filter on.
ALTER TABLE cases ADD COLUMN workflow JSONB;
ALTER TABLE cases ADD COLUMN claim JSONB;
-- Highest escalation level reached by any clock (from deadline.breached); 0 = on time.
ALTER TABLE cases ADD COLUMN overdue_level INT NOT NULL DEFAULT 0;
ALTER TABLE case_history ADD COLUMN changes JSONB NOT NULL DEFAULT '{}'::jsonb;

-- Keyset pagination over the newest first, and the usual filters.
CREATE INDEX cases_opened_desc ON cases (opened_at DESC, id DESC);
CREATE INDEX cases_assignee_status ON cases (assignee, status);
CREATE INDEX cases_overdue ON cases (overdue_level) WHERE overdue_level > 0;
