-- Full-text search of the case list for 2-character Chinese (Japanese, Korean) words: pg_trgm extracts no trigram
-- from `ILIKE '%发霉%'`, so migration 7's index cannot help and a rare word scanned every case. Each case now
-- keeps the distinct 2-character substrings of its searched text that contain a CJK character (lower-cased,
-- like ILIKE compares), indexed with GIN: `search_bigrams @> cjk_bigrams('发霉')` finds the candidates and the
-- ILIKE stays the exact check (routes/cases.rs). The same function computes the query's bigrams, so both
-- sides are normalised alike.
--
-- Stored, not an expression index: a page of a common word (包装) is read by the `opened_at` index with the
-- condition as a filter, which must not run this function per row.
CREATE FUNCTION cjk_bigrams(t text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    chars text[];
    grams text[] := '{}';
    p integer;
    cur boolean;
    prev boolean := false;
BEGIN
    -- CJK: kana, bopomofo and compatibility jamo (U+3040–31FF), ideographs (extension A U+3400–4DBF, unified
    -- U+4E00–9FFF, compatibility U+F900–FAFF, extensions B–G U+20000–3134F), Hangul syllables (U+AC00–D7AF).
    -- routes::cases::is_cjk uses the same ranges.
    IF t !~ '[\u3040-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]' THEN
        RETURN grams;
    END IF;
    chars := regexp_split_to_array(lower(t), '');
    FOR i IN 1 .. cardinality(chars) LOOP
        p := ascii(chars[i]);
        cur := p BETWEEN 12352 AND 12799 OR p BETWEEN 13312 AND 19903 OR p BETWEEN 19968 AND 40959
            OR p BETWEEN 44032 AND 55215 OR p BETWEEN 63744 AND 64255 OR p BETWEEN 131072 AND 201551;
        IF i > 1 AND (cur OR prev) THEN
            grams := grams || (chars[i - 1] || chars[i]);
        END IF;
        prev := cur;
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT g FROM unnest(grams) g ORDER BY g);
END
$$;

ALTER TABLE cases ADD COLUMN search_bigrams TEXT[] NOT NULL
    GENERATED ALWAYS AS (cjk_bigrams(reference || ' ' || coalesce(subject, '') || ' ' || content)) STORED;
CREATE INDEX cases_search_bigrams ON cases USING gin (search_bigrams);
