-- Moderation: per-stream moderators, bans and timeouts, room settings,
-- blocked terms, and the audit log of every action.

CREATE TABLE chat_moderator (
    id SERIAL PRIMARY KEY,
    stream_id INTEGER NOT NULL REFERENCES streaming_stream(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES accounts_user(id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES accounts_user(id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (stream_id, user_id)
);

-- A ban (expires_at NULL) or timeout, on one stream or (stream_id NULL)
-- tenant-wide. Lifting one sets lifted_at; rows are kept for the record.
CREATE TABLE chat_ban (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES accounts_user(id) ON DELETE CASCADE,
    stream_id INTEGER REFERENCES streaming_stream(id) ON DELETE CASCADE,
    reason VARCHAR(500) NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES accounts_user(id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    expires_at TIMESTAMP,
    lifted_at TIMESTAMP,
    lifted_by INTEGER REFERENCES accounts_user(id)
);
CREATE INDEX idx_ban_user ON chat_ban(user_id, stream_id) WHERE lifted_at IS NULL;

CREATE TABLE chat_roomsettings (
    room_id INTEGER PRIMARY KEY REFERENCES chat_chatroom(id) ON DELETE CASCADE,
    slow_mode_seconds INTEGER NOT NULL DEFAULT 0
        CHECK (slow_mode_seconds = 0 OR slow_mode_seconds BETWEEN 3 AND 120),
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE chat_blockedterm (
    id SERIAL PRIMARY KEY,
    term VARCHAR(100) NOT NULL,
    -- NFKC, lower-cased, invisible characters removed: what messages are matched against.
    normalized VARCHAR(100) UNIQUE NOT NULL,
    created_by INTEGER REFERENCES accounts_user(id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE chat_moderationaction (
    id SERIAL PRIMARY KEY,
    stream_id INTEGER REFERENCES streaming_stream(id) ON DELETE CASCADE,
    actor_id INTEGER REFERENCES accounts_user(id),
    action VARCHAR(30) NOT NULL,
    target_user_id INTEGER REFERENCES accounts_user(id),
    target_message_id INTEGER REFERENCES chat_chatmessage(id),
    details JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_moderationaction_stream ON chat_moderationaction(stream_id, created_at DESC);
