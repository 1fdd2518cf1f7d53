-- The dashboard's figures (GET /api/v1/stats/overview) without scanning a month of cases or clocks: per-day
-- counts kept as events arrive, like case_days, and partial indexes over the few open and overdue cases.

-- Cases per site, local day of arrival and channel.
CREATE TABLE case_channel_days (
    site    TEXT NOT NULL,
    day     DATE NOT NULL,
    channel TEXT NOT NULL,
    n       INT NOT NULL,
    PRIMARY KEY (day, site, channel)
);

-- SLA clocks per site, local day of their case's arrival, clock and state (report::sections::CLOCK_STATE: met,
-- late, overdue, running): the on-time rates of a day or a month. A clock whose case has not arrived yet is not
-- counted (as in the report's timeliness).
CREATE TABLE clock_days (
    site  TEXT NOT NULL,
    day   DATE NOT NULL,
    clock TEXT NOT NULL,
    state TEXT NOT NULL,
    n     INT NOT NULL,
    PRIMARY KEY (day, site, clock, state)
);

-- Clocks of this case running past their deadline now (report::sections::OVERDUE_CLOCK).
ALTER TABLE case_facts ADD COLUMN clocks_overdue INT NOT NULL DEFAULT 0;

-- Existing facts, with days in the shipped reporting.timezone (Asia/Shanghai); a deployment in another zone
-- recomputes them with POST /api/v1/admin/rebuild.
INSERT INTO case_channel_days (site, day, channel, n)
SELECT site, (received_at AT TIME ZONE 'Asia/Shanghai')::date, channel, count(*)
  FROM case_facts GROUP BY 1, 2, 3;
INSERT INTO clock_days (site, day, clock, state, n)
SELECT k.site, (k.received_at AT TIME ZONE 'Asia/Shanghai')::date, k.clock,
       CASE WHEN k.met THEN 'met' WHEN NOT k.met THEN 'late'
            WHEN k.stopped_at IS NULL AND k.breached_at IS NOT NULL THEN 'overdue' ELSE 'running' END,
       count(*)
  FROM clock_facts k WHERE k.received_at IS NOT NULL GROUP BY 1, 2, 3, 4;
UPDATE case_facts c SET clocks_overdue = o.n
  FROM (SELECT case_id, count(*) AS n FROM clock_facts
         WHERE breached_at IS NOT NULL AND stopped_at IS NULL GROUP BY case_id) o
 WHERE o.case_id = c.case_id;

-- Open cases (triage's open statuses) and overdue cases (the report's overdue list: a clock past due and still
-- running, the case not closed) by site and department: index-only counts over the few unfinished cases.
CREATE INDEX case_facts_open ON case_facts (site, department) WHERE status NOT IN ('closed', 'rejected');
CREATE INDEX case_facts_overdue ON case_facts (site, department) WHERE clocks_overdue > 0 AND closed_at IS NULL;
