-- Analytics: rollups maintained by the writers (in the same transaction as
-- the raw rows), exact unique sets, and viewer samples.

-- Reactions per stream, stamp and minute.
CREATE TABLE streaming_reactionminute (
    stream_id INTEGER NOT NULL REFERENCES streaming_stream(id) ON DELETE CASCADE,
    stamp_id INTEGER NOT NULL REFERENCES chat_chatstamp(id),
    minute TIMESTAMP NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (stream_id, minute, stamp_id)
);

-- Everyone who reacted on a stream, once (exact unique reactors).
CREATE TABLE streaming_reactor (
    stream_id INTEGER NOT NULL REFERENCES streaming_stream(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES accounts_user(id) ON DELETE CASCADE,
    PRIMARY KEY (stream_id, user_id)
);

-- Chat messages per stream and minute.
CREATE TABLE chat_messageminute (
    stream_id INTEGER NOT NULL REFERENCES streaming_stream(id) ON DELETE CASCADE,
    minute TIMESTAMP NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (stream_id, minute)
);

-- Everyone who chatted on a stream, once (exact unique chatters).
CREATE TABLE chat_chatter (
    stream_id INTEGER NOT NULL REFERENCES streaming_stream(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES accounts_user(id) ON DELETE CASCADE,
    PRIMARY KEY (stream_id, user_id)
);

-- Concurrent viewers, sampled every 15 s while a stream is live. The time is
-- truncated to the 15 s slot so that several nodes write one row per slot.
CREATE TABLE streaming_viewersample (
    id SERIAL PRIMARY KEY,
    stream_id INTEGER NOT NULL REFERENCES streaming_stream(id) ON DELETE CASCADE,
    sampled_at TIMESTAMP NOT NULL,
    viewers INTEGER NOT NULL,
    UNIQUE (stream_id, sampled_at)
);
