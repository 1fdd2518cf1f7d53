-- Every email seen by the email channel (IMAP poller or inbound webhook), once per mailbox and
-- Message-ID (or `sha256:<hash of the raw message>` when it has none). The row commits in the same
-- transaction as the feedback or follow-up it became, so a crash before the message is marked on the
-- server registers it once: on the next pass the row is found and the message is only marked.
CREATE TABLE email_messages (
    mailbox      TEXT NOT NULL,
    message_key  TEXT NOT NULL,
    -- registered | followup | ignored | rejected
    outcome      TEXT NOT NULL,
    -- Why it was ignored or rejected (auto_reply, bounce, own_message, too_large, unparseable, …).
    reason       TEXT,
    uid_validity BIGINT,
    uid          BIGINT,
    size         BIGINT NOT NULL,
    feedback_id  UUID,
    followup_id  UUID,
    reference    TEXT,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (mailbox, message_key)
);
CREATE INDEX email_messages_reference ON email_messages (reference) WHERE reference IS NOT NULL;

-- A customer writing again about registered feedback (a reply to our email, or naming the reference).
CREATE TABLE followups (
    id          UUID PRIMARY KEY,
    feedback_id UUID NOT NULL REFERENCES feedback (id),
    reference   TEXT NOT NULL,
    channel     TEXT NOT NULL,
    sender      TEXT,
    subject     TEXT,
    content     TEXT NOT NULL,
    message_id  TEXT,
    received_at TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX followups_feedback ON followups (feedback_id);

-- Files sent with a follow-up belong to the feedback and name the follow-up.
ALTER TABLE attachments ADD COLUMN followup_id UUID REFERENCES followups (id);
