-- Files sent with feedback (photos, documents): metadata here, bytes in the attachment store under
-- `storage_key` (content-addressed by `sha256`). Rows commit in the same transaction as their
-- feedback row; the file is written before, so a row never points at a missing file.
CREATE TABLE attachments (
    id           UUID PRIMARY KEY,
    feedback_id  UUID NOT NULL REFERENCES feedback (id),
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL CHECK (size >= 0),
    content_type TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    storage_key  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX attachments_feedback ON attachments (feedback_id);
CREATE INDEX attachments_sha256 ON attachments (sha256);
