-- The dashboard's revisit rate and satisfaction of a day or a month without scanning a month of closures and
-- revisits: per-day counts kept as events arrive.

-- Closed cases that count in the revisit rate (report::sections::REVISIT_COUNTED: not merged, not invalid) per
-- site, local day of closure and whether they were revisited.
CREATE TABLE closure_days (
    site      TEXT NOT NULL,
    day       DATE NOT NULL,
    revisited BOOLEAN NOT NULL,
    n         INT NOT NULL,
    PRIMARY KEY (day, site, revisited)
);

-- Revisits done per site, local day of completion, overall score (-1: none) and the satisfied answer; whether
-- that makes a satisfied revisit (report::sections::satisfied_sql) is judged when counting.
CREATE TABLE revisit_days (
    site      TEXT NOT NULL,
    day       DATE NOT NULL,
    score     SMALLINT NOT NULL,
    satisfied BOOLEAN NOT NULL,
    n         INT NOT NULL,
    PRIMARY KEY (day, site, score, satisfied)
);

-- Revisits falling due per site and local day.
CREATE TABLE revisit_due_days (
    site TEXT NOT NULL,
    day  DATE NOT NULL,
    n    INT NOT NULL,
    PRIMARY KEY (day, site)
);

-- Existing facts, with days in the shipped reporting.timezone (Asia/Shanghai); a deployment in another zone
-- recomputes them with POST /api/v1/admin/rebuild.
INSERT INTO closure_days (site, day, revisited, n)
SELECT site, (closed_at AT TIME ZONE 'Asia/Shanghai')::date, revisited, count(*)
  FROM case_facts
 WHERE closed_at IS NOT NULL AND coalesce(outcome, '') <> 'merged' AND coalesce(validity, '') <> 'invalid'
 GROUP BY 1, 2, 3;
INSERT INTO revisit_days (site, day, score, satisfied, n)
SELECT site, (completed_at AT TIME ZONE 'Asia/Shanghai')::date, coalesce(score, -1), satisfied, count(*)
  FROM revisit_facts GROUP BY 1, 2, 3, 4;
INSERT INTO revisit_due_days (site, day, n)
SELECT site, (due_at AT TIME ZONE 'Asia/Shanghai')::date, count(*) FROM revisit_due_facts GROUP BY 1, 2;
