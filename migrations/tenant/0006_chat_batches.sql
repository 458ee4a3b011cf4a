-- Chat batches already stored, by the id the committer gave them, with the
-- ids of their messages in order. The committer retries a batch when it
-- cannot tell whether the commit happened (the connection dropped after
-- COMMIT, before the reply); the retry finds its id here, stores nothing
-- again and publishes the messages stored the first time. Ids are UUIDv7
-- (time-ordered), so old ones are pruned by comparing ids.
CREATE TABLE chat_batch (
    id uuid PRIMARY KEY,
    message_ids int4[] NOT NULL
);
