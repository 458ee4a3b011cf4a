-- Auto-moderation (issue 18): the tenant's rules, and lines held for review.

-- One row: the rules as JSON (validated by the server before it is stored;
-- see moderation::automod::Settings), so a new rule needs no migration.
CREATE TABLE chat_automod (
    id BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    settings JSONB NOT NULL,
    updated_by INTEGER REFERENCES accounts_user(id),
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- A held line is stored hidden (is_deleted, so every reader that shows
-- visible lines already leaves it out) with status 'held' and why; approval
-- makes it visible with its original time, denial keeps it hidden.
ALTER TABLE chat_chatmessage
    ADD COLUMN status VARCHAR(10) NOT NULL DEFAULT 'visible'
        CHECK (status IN ('visible', 'held', 'denied')),
    ADD COLUMN held_reasons TEXT[];

-- The queue (per room) and its expiry sweep read only held lines.
CREATE INDEX idx_chatmessage_held ON chat_chatmessage (room_id, id) WHERE status = 'held';

-- "Repeats the user's last line" reads a user's newest line through
-- idx_chatmessage_user_id (user_id, id DESC), from migration 0015.
