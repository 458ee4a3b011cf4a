-- Reaction batches already stored, by the id their writer gave them. A
-- writer retries a batch when it cannot tell whether the commit happened
-- (the connection dropped after COMMIT, before the reply); the retry finds
-- its id here and stores nothing again. Ids are UUIDv7 (time-ordered), so
-- old ones are pruned by comparing ids.
CREATE TABLE streaming_reactionbatch (
    id uuid PRIMARY KEY
);
