-- 8D reports, regulator reports of adverse events, and CAPA records (domain.md §4).
-- The documents are JSON (domain::eight_d::EightD, domain::regulator::RegulatorReport); `version` guards
-- concurrent editors (a stale version is a 409).
CREATE TABLE eight_d_reports (
    case_id    UUID PRIMARY KEY REFERENCES cases (id),
    report     JSONB NOT NULL,
    closed     BOOLEAN NOT NULL DEFAULT false,
    version    INT NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE regulator_reports (
    case_id    UUID PRIMARY KEY REFERENCES cases (id),
    report     JSONB NOT NULL,
    status     TEXT NOT NULL,
    version    INT NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE SEQUENCE capa_number_seq;
CREATE TABLE capa_records (
    id          UUID PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    problem     TEXT NOT NULL,
    action_plan TEXT NOT NULL,
    owner       TEXT NOT NULL,
    due_date    DATE NOT NULL,
    status      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    history     JSONB NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX capa_records_status ON capa_records (status, due_date);

CREATE TABLE capa_cases (
    capa_id UUID NOT NULL REFERENCES capa_records (id),
    case_id UUID NOT NULL REFERENCES cases (id),
    PRIMARY KEY (capa_id, case_id)
);
CREATE INDEX capa_cases_case ON capa_cases (case_id);
