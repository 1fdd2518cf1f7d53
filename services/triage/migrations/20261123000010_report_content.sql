-- Every report of a case keeps the feedback it came with (`feedback.received` data, contracts::feedback::
-- FeedbackReceivedV1) and the site it was registered at, so that a report dedup linked wrongly can be split
-- out into a case of its own (`POST /api/v1/cases/{id}/split`). Reports linked before this migration have
-- neither and cannot be split.
ALTER TABLE case_reports ADD COLUMN feedback JSONB;
ALTER TABLE case_reports ADD COLUMN site TEXT;
