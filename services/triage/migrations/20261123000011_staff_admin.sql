-- Staff administration: every change to an account recorded (who, when, what), and the moment before
-- which the account's tokens are no longer accepted by triage (a change of roles, department, sites,
-- name or password, or a deactivation, signs the user out).
ALTER TABLE staff_users
    ADD COLUMN updated_at         TIMESTAMPTZ,
    ADD COLUMN tokens_valid_after TIMESTAMPTZ;

CREATE TABLE staff_changes (
    id      BIGSERIAL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES staff_users (id),
    -- The administrator who made the change (their staff id).
    actor   TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- created | updated
    action  TEXT NOT NULL,
    -- {"field": {"from": …, "to": …}}; a password reset is recorded as {"password": "reset"}, never the value.
    changes JSONB NOT NULL
);
CREATE INDEX staff_changes_user ON staff_changes (user_id, id);

-- Revoking a user's tokens on a change, and checking a presented token, by user.
CREATE INDEX staff_tokens_user ON staff_tokens (user_id) WHERE revoked_at IS NULL;
