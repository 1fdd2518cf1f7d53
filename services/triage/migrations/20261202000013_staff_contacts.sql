-- How to reach a staff member (notification's directory of people is kept from `staff.changed`, which carries
-- these), and a revision per account so that consumers keep the newest snapshot.
ALTER TABLE staff_users
    ADD COLUMN email    TEXT,
    ADD COLUMN phone    TEXT,
    ADD COLUMN language TEXT NOT NULL DEFAULT 'zh-CN',
    ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
