-- Every change of a clock is published as a `deadline.changed` snapshot; the revision lets consumers (triage's
-- deadline view) keep the newest one when snapshots arrive late or twice.
ALTER TABLE clocks ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
