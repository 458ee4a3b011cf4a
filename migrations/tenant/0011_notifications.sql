-- Personal notifications (issue 17), follows (user → stream) and blocks
-- (user → user). Runs with search_path set to the tenant schema.
--
-- 0011, not 0010: 0010 is reserved for another change; migrations are
-- applied by version and a gap is harmless.

CREATE TABLE notifications_notification (
    id BIGSERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES accounts_user(id) ON DELETE CASCADE,
    type VARCHAR(10) NOT NULL DEFAULT 'info'
        CHECK (type IN ('info', 'warning', 'error', 'success')),
    -- What produced it: mention, reply, moderation, stream.live, system.
    kind VARCHAR(20) NOT NULL,
    title VARCHAR(200) NOT NULL,
    body VARCHAR(2000) NOT NULL DEFAULT '',
    link VARCHAR(2048),
    read_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- Keyset pages: WHERE user_id = $1 AND id < $before ORDER BY id DESC LIMIT n.
CREATE INDEX idx_notification_user_id ON notifications_notification (user_id, id DESC);
-- Unread counts and unread-only pages touch only the unread rows, which stay
-- few however long the history grows.
CREATE INDEX idx_notification_unread ON notifications_notification (user_id, id DESC)
    WHERE read_at IS NULL;
-- The retention sweep: read rows by age.
CREATE INDEX idx_notification_read_created ON notifications_notification (created_at)
    WHERE read_at IS NOT NULL;

CREATE TABLE notifications_follow (
    user_id INTEGER NOT NULL REFERENCES accounts_user(id) ON DELETE CASCADE,
    stream_id INTEGER NOT NULL REFERENCES streaming_stream(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (user_id, stream_id)
);
-- A stream going live reads its followers.
CREATE INDEX idx_follow_stream ON notifications_follow (stream_id);

CREATE TABLE accounts_block (
    blocker_id INTEGER NOT NULL REFERENCES accounts_user(id) ON DELETE CASCADE,
    blocked_id INTEGER NOT NULL REFERENCES accounts_user(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
-- "Who blocked this sender", for filtering a message's recipients.
CREATE INDEX idx_block_blocked ON accounts_block (blocked_id);
