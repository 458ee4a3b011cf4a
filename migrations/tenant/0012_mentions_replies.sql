-- Mentions and replies (issue 17). A line keeps the users it mentions
-- (canonical usernames, resolved when it was sent) and the line it answers
-- (same room; the quote is read from that line, so a later deletion hides
-- it).
ALTER TABLE chat_chatmessage ADD COLUMN IF NOT EXISTS reply_to_id integer;
ALTER TABLE chat_chatmessage ADD COLUMN IF NOT EXISTS mentions text[];
