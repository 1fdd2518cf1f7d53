-- Staff accounts (domain roles) and the tokens issued to them (only a hash is kept).
CREATE TABLE staff_users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles         JSONB NOT NULL,
    department    TEXT,
    sites         JSONB NOT NULL DEFAULT '[]'::jsonb,
    active        BOOLEAN NOT NULL DEFAULT true,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX staff_users_department ON staff_users (department) WHERE active;

CREATE TABLE staff_tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES staff_users (id),
    issued_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);

-- Round-robin position per department.
CREATE TABLE assignment_cursor (
    department TEXT PRIMARY KEY,
    last_user  TEXT NOT NULL
);
