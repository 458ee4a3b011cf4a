-- Editing one's own chat message (issue 18). A message keeps its latest
-- text in `content` and when it was last edited; every text it replaced
-- is kept in chat_messageversion for moderators.
--
-- 0016: 0014 and 0015 are taken by message search.
ALTER TABLE chat_chatmessage ADD COLUMN IF NOT EXISTS edited_at TIMESTAMP;

CREATE TABLE IF NOT EXISTS chat_messageversion (
    id BIGSERIAL PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES chat_chatmessage(id) ON DELETE CASCADE,
    -- The replaced text, HTML-escaped as it was stored.
    content TEXT NOT NULL,
    -- When that text was first shown: the message's creation or the edit
    -- before this one.
    shown_at TIMESTAMP NOT NULL,
    replaced_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS idx_messageversion_message
    ON chat_messageversion (message_id, id);
