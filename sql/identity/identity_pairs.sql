-- Candidate pairs of identity records: the blocking rules of [matching.identity] (c360.toml)
-- scored by its Fellegi-Sunter model (pairs below 1% are left out). Incremental: given the
-- pairs published last time, only pairs with a new or changed record are scored, the others
-- keep their scores (all are rescored after retraining). The deterministic links (same shop
-- account) are rules of identity_edges.
SELECT left_key, right_key, blocking_rule, match_weight, match_probability,
       left_fingerprint, right_fingerprint, model_version, scored_at
FROM match_pairs('identity', 'identity_pairs')
WHERE match_probability >= 0.01
