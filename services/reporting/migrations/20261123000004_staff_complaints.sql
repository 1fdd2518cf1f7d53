-- Staff members named in a complaint (triage's `staff_named`), for the monthly per-staff counts (004 §4.5).
CREATE TABLE staff_complaints (
    case_id UUID NOT NULL,
    staff   TEXT NOT NULL,
    PRIMARY KEY (case_id, staff)
);
CREATE INDEX staff_complaints_staff ON staff_complaints (staff);
