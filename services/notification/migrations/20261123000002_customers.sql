-- How to reach the customer of each registered feedback (from feedback.received), for replies.
CREATE TABLE case_contacts (
    reference TEXT PRIMARY KEY,
    name      TEXT,
    email     TEXT,
    phone     TEXT,
    language  TEXT NOT NULL,
    anonymous BOOLEAN NOT NULL
);

-- One notification per natural event (a replayed event under a new id must not notify twice), recipient
-- and channel; threading headers for customers' mail clients.
ALTER TABLE deliveries ADD COLUMN dedup_key TEXT;
UPDATE deliveries SET dedup_key = event_id::text;
ALTER TABLE deliveries ALTER COLUMN dedup_key SET NOT NULL;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_recipient_channel_key;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_once UNIQUE (dedup_key, recipient, channel);
ALTER TABLE deliveries ADD COLUMN in_reply_to TEXT;
