-- Stamps and reactions (seed 001, "YouTubeLive風リアクションシステム").

CREATE TABLE chat_chatstamp (
    id SERIAL PRIMARY KEY,
    name VARCHAR(50) UNIQUE NOT NULL,
    -- Public path of the image, e.g. /media/stamps/01_smile.svg.
    image VARCHAR(255) UNIQUE NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0,
    is_active BOOLEAN NOT NULL DEFAULT true,
    -- The SVG of a tenant's own stamp; NULL for the built-in ones shipped in the binary.
    svg TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

INSERT INTO chat_chatstamp (name, image, sort_order) VALUES
    (':smile:', '/media/stamps/01_smile.svg', 1),
    (':surprise:', '/media/stamps/02_surprise.svg', 2),
    (':cry:', '/media/stamps/03_cry.svg', 3),
    (':love:', '/media/stamps/04_love.svg', 4),
    (':scream:', '/media/stamps/05_scream.svg', 5),
    (':angry:', '/media/stamps/06_angry.svg', 6)
ON CONFLICT (name) DO NOTHING;

-- ストリームリアクションテーブル (seed 001)
CREATE TABLE streaming_streamreaction (
    id SERIAL PRIMARY KEY,
    stream_id INTEGER REFERENCES streaming_stream(id) NOT NULL,
    user_id INTEGER REFERENCES accounts_user(id) NOT NULL,
    stamp_id INTEGER REFERENCES chat_chatstamp(id) NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX streaming_s_stream_0c7fc7_idx ON streaming_streamreaction(stream_id, created_at DESC);
CREATE INDEX streaming_s_stamp_i_26798f_idx ON streaming_streamreaction(stamp_id, created_at DESC);
