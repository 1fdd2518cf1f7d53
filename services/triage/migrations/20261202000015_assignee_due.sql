-- "Assigned to me" sorted by the nearest deadline (the console's My work): walk one person's cases in
-- `next_due_at` order instead of sorting all of them.
CREATE INDEX cases_assignee_next_due ON cases (assignee, next_due_at, id) WHERE assignee IS NOT NULL;
-- The same for a department's work list.
CREATE INDEX cases_department_next_due ON cases (department, next_due_at, id);
