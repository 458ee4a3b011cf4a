-- The seed-001 tables of one tenant. Runs with search_path set to the tenant
-- schema, so names are unqualified exactly as in the seed DDL.

CREATE TABLE accounts_user (
    id SERIAL PRIMARY KEY,
    username VARCHAR(150) UNIQUE NOT NULL,
    password_hash TEXT NOT NULL,
    role VARCHAR(20) NOT NULL DEFAULT 'viewer'
        CHECK (role IN ('viewer', 'moderator', 'streamer', 'admin', 'analyst')),
    is_active BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- "Alice" and "alice" would otherwise be two people in one chat.
CREATE UNIQUE INDEX idx_user_username_lower ON accounts_user (lower(username));

CREATE TABLE streaming_stream (
    id SERIAL PRIMARY KEY,
    title VARCHAR(255) NOT NULL,
    owner_id INTEGER REFERENCES accounts_user(id),
    status VARCHAR(10) NOT NULL DEFAULT 'live' CHECK (status IN ('live', 'ended')),
    started_at TIMESTAMP,
    ended_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_stream_status_started ON streaming_stream(status, started_at DESC);

-- チャットルームテーブル (seed 001)
CREATE TABLE chat_chatroom (
    id SERIAL PRIMARY KEY,
    name VARCHAR(255) UNIQUE NOT NULL,
    stream_id INTEGER REFERENCES streaming_stream(id),
    is_active BOOLEAN DEFAULT true,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_chatroom_stream ON chat_chatroom(stream_id);

-- チャットメッセージテーブル (seed 001)
CREATE TABLE chat_chatmessage (
    id SERIAL PRIMARY KEY,
    room_id INTEGER REFERENCES chat_chatroom(id) NOT NULL,
    user_id INTEGER REFERENCES accounts_user(id),
    content TEXT NOT NULL,
    message_type VARCHAR(20) DEFAULT 'message',
    is_deleted BOOLEAN DEFAULT false,
    is_pinned BOOLEAN DEFAULT false,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_chatmessage_room_created ON chat_chatmessage(room_id, created_at DESC);
CREATE INDEX idx_chatmessage_user ON chat_chatmessage(user_id);
-- History pages walk ids within a room; this keeps them off the primary key scan.
CREATE INDEX idx_chatmessage_room_id ON chat_chatmessage(room_id, id DESC);
