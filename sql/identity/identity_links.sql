-- The links the identity graph clusters over: the rule-based links of identity_edges
-- (strength 1) and the pairs the match model (identity_pairs) scores at 0.99 or more, unless
-- their first names contradict each other (the model treats e-mail, phone, surname and
-- postcode as independent evidence, but a family shares them all; only the first name tells
-- its members apart). Each link says whether its records carry a name.
WITH records AS (
  SELECT record_key, first_name_std,
         first_name_std IS NOT NULL OR last_name_std IS NOT NULL AS named
  FROM identity_records
),
model_links AS (
  SELECT left_key, right_key, match_probability AS strength
  FROM identity_pairs
  WHERE match_probability >= 0.99
),
links AS (
  SELECT left_key, right_key, 1.0 AS strength FROM identity_edges
  UNION ALL
  SELECT left_key, right_key, strength FROM model_links
)
SELECT k.left_key, k.right_key, k.strength, a.named AS left_named, b.named AS right_named
FROM links k
JOIN records a ON a.record_key = k.left_key
JOIN records b ON b.record_key = k.right_key
WHERE k.strength = 1.0
   OR NOT coalesce(jaro_winkler(a.first_name_std, b.first_name_std) < 0.8
                   AND damerau_levenshtein(a.first_name_std, b.first_name_std) > 1, false)
