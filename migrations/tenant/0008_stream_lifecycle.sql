-- Stream lifecycle: a stream may be scheduled before it goes live
-- (`stampede stream start`, `POST /api/streams/{id}/start`); `ended` is final.
ALTER TABLE streaming_stream DROP CONSTRAINT IF EXISTS streaming_stream_status_check;
ALTER TABLE streaming_stream ADD CONSTRAINT streaming_stream_status_check
    CHECK (status IN ('scheduled', 'live', 'ended'));
