-- Every identity record with its customer.
--
-- Named records are clustered in identity_named_clusters. A record without a name (an
-- e-mail-only survey answer, a cookie) joins the one customer it links to most strongly
-- (identity_links), never two, so a shared family mailbox does not merge a family; unnamed
-- records with no named link form components among themselves.
--
-- Customer ids are stable across runs (stable_ids, reading the ids the last published
-- identity_graph gave each record): an unchanged customer keeps its id, a new record joining a
-- customer inherits it, a merge keeps the older id, a split leaves the id on the larger part,
-- and a new customer gets 'C' + 12 hex digits of md5 of its smallest record key, never an id
-- used before. customer_since is when the id was first issued. match_probability is the
-- strongest link the record has (NULL when it has none).
WITH unnamed_votes AS (
  SELECT unnamed, n.component, max(strength) AS strength, count(*) AS links
  FROM (SELECT CASE WHEN left_named THEN right_key ELSE left_key END AS unnamed,
               CASE WHEN left_named THEN left_key ELSE right_key END AS named_key,
               strength
        FROM identity_links WHERE left_named <> right_named)
  JOIN identity_named_clusters n ON n.record_key = named_key
  GROUP BY unnamed, n.component
),
unnamed_customer AS (
  SELECT unnamed AS record_key, component
  FROM (SELECT *, row_number() OVER (PARTITION BY unnamed
                                     ORDER BY strength DESC, links DESC, component) AS rank
        FROM unnamed_votes)
  WHERE rank = 1
),
unnamed AS (
  SELECT r.record_key, u.component
  FROM identity_records r
  LEFT JOIN unnamed_customer u ON u.record_key = r.record_key
  WHERE r.first_name_std IS NULL AND r.last_name_std IS NULL
),
leftover_components AS (
  SELECT unnest(connected_components(left_key, right_key)) AS c
  FROM (SELECT l.left_key, l.right_key
        FROM identity_links l
        JOIN unnamed a ON a.record_key = l.left_key AND a.component IS NULL
        JOIN unnamed b ON b.record_key = l.right_key AND b.component IS NULL
        UNION ALL
        SELECT record_key, CAST(NULL AS VARCHAR) FROM unnamed WHERE component IS NULL)
),
assigned AS (
  SELECT record_key, component FROM identity_named_clusters
  UNION ALL SELECT record_key, component FROM unnamed WHERE component IS NOT NULL
  UNION ALL SELECT c['node'], c['component'] FROM leftover_components
),
ids AS (
  SELECT unnest(stable_ids(a.record_key, a.component, p.customer_id, p.customer_since)) AS s
  FROM assigned a
  LEFT JOIN previous_customer_ids('identity_graph') p ON p.record_key = a.record_key
),
strongest AS (
  SELECT record_key, max(strength) AS match_probability
  FROM (SELECT left_key AS record_key, strength FROM identity_links
        UNION ALL
        SELECT right_key, strength FROM identity_links)
  GROUP BY record_key
)
SELECT split_part(i.s['record'], ':', 1)                             AS source,
       substr(i.s['record'], strpos(i.s['record'], ':') + 1)          AS source_record_id,
       i.s['customer_id']                                             AS customer_id,
       coalesce(CAST(i.s['since'] AS TIMESTAMP), CAST(now() AS TIMESTAMP)) AS customer_since,
       t.match_probability
FROM ids i
LEFT JOIN strongest t ON t.record_key = i.s['record']
