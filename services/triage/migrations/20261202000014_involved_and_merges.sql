-- Roles a case's category involves besides its department (domain.md §2: an adverse event goes to the quality
-- department plus the management representative, who reports to the regulator); `[routing.involve]`.
ALTER TABLE cases ADD COLUMN involved_roles JSONB NOT NULL DEFAULT '[]'::jsonb;

-- A case merged into another brings its reports along; `merged_path` remembers the cases each report was
-- merged out of, oldest first (A merged into B, then B into C: a report of A has [A, B]), so that reopening a
-- merged case (un-merging it) takes back exactly what it brought, wherever later merges carried it.
ALTER TABLE case_reports ADD COLUMN merged_path UUID[] NOT NULL DEFAULT '{}';
CREATE INDEX case_reports_merged_path ON case_reports USING gin (merged_path);
