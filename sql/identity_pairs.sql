-- Links between identity records. Probabilistic: the candidate pairs of the blocking rules of
-- [matching.identity] (c360.toml) scored by its Fellegi-Sunter model (pairs below 1% are left
-- out). Incremental: given the pairs published last time, only pairs with a new or changed
-- record are scored, the others keep their scores (all are rescored after retraining).
-- Deterministic: records carrying the same shop account id (an account and the cookies that
-- logged in to it) are one customer by definition, probability 1, blocking_rule 0.
SELECT left_key, right_key, blocking_rule, match_weight, match_probability,
       left_fingerprint, right_fingerprint, model_version, scored_at
FROM match_pairs('identity', 'identity_pairs')
WHERE match_probability >= 0.01
UNION ALL
SELECT l.record_key, r.record_key, 0, CAST(NULL AS DOUBLE), 1.0,
       CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
       CAST(NULL AS TIMESTAMP)
FROM identity_records l
JOIN identity_records r ON l.account_id = r.account_id AND l.record_key < r.record_key
