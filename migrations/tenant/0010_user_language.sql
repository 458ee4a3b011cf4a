-- The language a user chose with the page's switch, so that it follows them
-- to every device they log in on. NULL: no choice (the browser decides).
ALTER TABLE accounts_user ADD COLUMN IF NOT EXISTS language text
    CHECK (language IS NULL OR language IN ('en', 'ja'));
