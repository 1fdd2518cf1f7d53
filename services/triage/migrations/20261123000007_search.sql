-- Full-text search of the case list (`?text=`) at a million cases: a trigram index over the searched text, so
-- `ILIKE '%word%'` (Chinese or English, any substring) is an index lookup, not a scan. pg_trgm ships with
-- PostgreSQL (postgresql-contrib in older packagings).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX cases_search ON cases
    USING gin ((reference || ' ' || coalesce(subject, '') || ' ' || content) gin_trgm_ops);
