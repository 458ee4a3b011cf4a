-- Message search (issue 18). Trigrams find text inside text whatever the
-- language: Postgres full-text search does not segment Japanese, so
-- `こんにちは` would not be found in `みなさんこんにちは！`.
-- pg_trgm is a trusted extension: a role with CREATE on the database may
-- install it (docs/operations.md). Its trigrams of non-ASCII letters need
-- a database whose LC_CTYPE classifies them (C.UTF-8, en_US.UTF-8, ja_JP…),
-- not plain C.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- The text a search matches: a stored line as it was typed (the five HTML
-- entities `moderation::sanitize` writes decoded, `&amp;` last) and lower-
-- cased, so `<3` and `Tom's` are found as typed and English matches in any
-- case. Tenant indexes are built on it, so it must stay IMMUTABLE, and
-- plain SQL (no SET clause) so the planner inlines it and an index on it
-- matches the queries. Changing it means rebuilding those indexes.
CREATE OR REPLACE FUNCTION public.stampede_search_text(content text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT lower(replace(replace(replace(replace(replace(content,
        '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&amp;', '&'))
$$;
