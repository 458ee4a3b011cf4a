-- Reactions per stream, second and stamp (issue 18): what chat replay
-- plays back, read by a range of the primary key however many raw rows a
-- busy second had. Kept by the reaction writer in the statement that
-- stores the raw rows, rebuilt by `stampede analytics backfill` like the
-- minute rollup; filled here from the raw rows already stored.
CREATE TABLE IF NOT EXISTS streaming_reactionsecond (
    stream_id INTEGER NOT NULL REFERENCES streaming_stream(id) ON DELETE CASCADE,
    stamp_id INTEGER NOT NULL REFERENCES chat_chatstamp(id),
    second TIMESTAMP NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (stream_id, second, stamp_id)
);

INSERT INTO streaming_reactionsecond (stream_id, stamp_id, second, count)
SELECT stream_id, stamp_id, date_trunc('second', created_at), count(*)
FROM streaming_streamreaction
WHERE created_at IS NOT NULL
GROUP BY 1, 2, 3
ON CONFLICT DO NOTHING;
