-- The staff members a complaint is about (004 §4.5: monthly per-staff complaint counts), named by a supervisor.
ALTER TABLE cases ADD COLUMN complained_about TEXT[] NOT NULL DEFAULT '{}';
