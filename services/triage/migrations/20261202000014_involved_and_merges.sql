-- Roles a case's category involves besides its department (domain.md §2: an adverse event goes to the quality
-- department plus the management representative, who reports to the regulator); `[routing.involve]`.
ALTER TABLE cases ADD COLUMN involved_roles JSONB NOT NULL DEFAULT '[]'::jsonb;

-- A case merged into another brings its reports along; `merged_from` remembers whose they were, so that
-- reopening the merged case (un-merging it) takes them back.
ALTER TABLE case_reports ADD COLUMN merged_from UUID;
CREATE INDEX case_reports_merged_from ON case_reports (merged_from) WHERE merged_from IS NOT NULL;
