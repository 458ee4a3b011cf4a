-- Message search (issue 18): a trigram index on the text as typed and
-- lower-cased (public.stampede_search_text), so `LIKE '%term%'` with a
-- term of three letters or more reads the matching lines only, in any
-- language. Tenant-wide: a stream's search adds its room as a filter.
--
-- Built inside the migration's transaction, so chat inserts of this tenant
-- wait while it builds (minutes on ten million lines). On a big tenant,
-- build it beforehand with the same statement and CONCURRENTLY (see
-- docs/operations.md); this one then does nothing.
CREATE INDEX IF NOT EXISTS idx_chatmessage_search
    ON chat_chatmessage USING gin (public.stampede_search_text(content) public.gin_trgm_ops);
