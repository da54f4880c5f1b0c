-- Every identity record with its customer.
--
-- Links: the rule-based links of identity_edges (probability 1) and the pairs the match model
-- (identity_pairs) scores at 0.99 or more, unless their first names contradict each other
-- (the model treats e-mail, phone, surname and postcode as independent evidence, but a
-- family shares them all; only the first name tells its members apart).
--
-- Clustering: named records form customers as the connected components of their links. A
-- record without a name (an e-mail-only survey answer, a cookie) then joins the one customer
-- it links to most strongly, never two, so a shared family mailbox does not merge a family.
-- Unnamed records with no named link form components among themselves.
--
-- Customer ids are stable across runs (stable_ids, reading the ids the last published
-- identity_graph gave each record): an unchanged customer keeps its id, a new record joining a
-- customer inherits it, a merge keeps the older id, a split leaves the id on the larger part,
-- and a new customer gets 'C' + 12 hex digits of md5 of its smallest record key, never an id
-- used before. customer_since is when the id was first issued. match_probability is the
-- strongest link the record has (NULL when it has none).
WITH records AS (
  SELECT record_key, first_name_std IS NOT NULL OR last_name_std IS NOT NULL AS named
  FROM identity_records
),
links AS (
  SELECT left_key, right_key, 1.0 AS strength FROM identity_edges
  UNION ALL
  SELECT p.left_key, p.right_key, p.match_probability
  FROM identity_pairs p
  JOIN identity_records l ON l.record_key = p.left_key
  JOIN identity_records r ON r.record_key = p.right_key
  WHERE p.match_probability >= 0.99
    AND NOT coalesce(jaro_winkler(l.first_name_std, r.first_name_std) < 0.8
                     AND damerau_levenshtein(l.first_name_std, r.first_name_std) > 1, false)
),
typed AS (
  SELECT k.left_key, k.right_key, k.strength, a.named AS left_named, b.named AS right_named
  FROM links k
  JOIN records a ON a.record_key = k.left_key
  JOIN records b ON b.record_key = k.right_key
),
named_components AS (
  SELECT unnest(connected_components(left_key, right_key)) AS c
  FROM (SELECT left_key, right_key FROM typed WHERE left_named AND right_named
        UNION ALL
        SELECT record_key, CAST(NULL AS VARCHAR) FROM records WHERE named)
),
named_customer AS (
  SELECT c['node'] AS record_key, c['component'] AS component FROM named_components
),
unnamed_votes AS (
  SELECT unnamed, n.component, max(strength) AS strength, count(*) AS links
  FROM (SELECT CASE WHEN left_named THEN right_key ELSE left_key END AS unnamed,
               CASE WHEN left_named THEN left_key ELSE right_key END AS named_key,
               strength
        FROM typed WHERE left_named <> right_named)
  JOIN named_customer n ON n.record_key = named_key
  GROUP BY unnamed, n.component
),
unnamed_customer AS (
  SELECT unnamed AS record_key, component
  FROM (SELECT *, row_number() OVER (PARTITION BY unnamed
                                     ORDER BY strength DESC, links DESC, component) AS rank
        FROM unnamed_votes)
  WHERE rank = 1
),
leftover_components AS (
  SELECT unnest(connected_components(left_key, right_key)) AS c
  FROM (SELECT left_key, right_key FROM typed
        WHERE NOT left_named AND NOT right_named
          AND left_key NOT IN (SELECT record_key FROM unnamed_customer)
          AND right_key NOT IN (SELECT record_key FROM unnamed_customer)
        UNION ALL
        SELECT record_key, CAST(NULL AS VARCHAR) FROM records
        WHERE NOT named AND record_key NOT IN (SELECT record_key FROM unnamed_customer))
),
assigned AS (
  SELECT record_key, component FROM named_customer
  UNION ALL SELECT record_key, component FROM unnamed_customer
  UNION ALL SELECT c['node'], c['component'] FROM leftover_components
),
ids AS (
  SELECT unnest(stable_ids(a.record_key, a.component, p.customer_id, p.customer_since)) AS s
  FROM assigned a
  LEFT JOIN previous_customer_ids('identity_graph') p ON p.record_key = a.record_key
),
strongest AS (
  SELECT record_key, max(strength) AS match_probability
  FROM (SELECT left_key AS record_key, strength FROM links
        UNION ALL
        SELECT right_key, strength FROM links)
  GROUP BY record_key
)
SELECT split_part(i.s['record'], ':', 1)                           AS source,
       substr(i.s['record'], strpos(i.s['record'], ':') + 1)        AS source_record_id,
       i.s['customer_id']                                           AS customer_id,
       coalesce(CAST(i.s['since'] AS TIMESTAMP), CAST(now() AS TIMESTAMP)) AS customer_since,
       t.match_probability
FROM ids i
LEFT JOIN strongest t ON t.record_key = i.s['record']
