-- Moderation lines keep what they report as a key and arguments besides the
-- operator's wording, so each viewer's page can word them in its language.
ALTER TABLE chat_chatmessage ADD COLUMN IF NOT EXISTS notice jsonb;
