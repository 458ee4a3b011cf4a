-- Message search by author (issue 18): a user's lines newest first,
-- tenant-wide and within one room, read in id order without sorting.
-- (user_id, id) also serves every lookup the plain user_id index did.
CREATE INDEX IF NOT EXISTS idx_chatmessage_user_id ON chat_chatmessage (user_id, id DESC);
CREATE INDEX IF NOT EXISTS idx_chatmessage_room_user_id ON chat_chatmessage (room_id, user_id, id DESC);
DROP INDEX IF EXISTS idx_chatmessage_user;
