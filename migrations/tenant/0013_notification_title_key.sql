-- Notification titles worded per reader (issue 17). A title the server
-- writes (mentions, replies, moderation, stream.live) is stored as a key and
-- its arguments, and worded in the reader's language when read; `title`
-- keeps the English wording for rows without a key (an admin's system
-- notice is stored as typed) and for clients that ignore the key.
ALTER TABLE notifications_notification ADD COLUMN IF NOT EXISTS title_key VARCHAR(40);
ALTER TABLE notifications_notification
    ADD COLUMN IF NOT EXISTS title_args JSONB NOT NULL DEFAULT '{}';
