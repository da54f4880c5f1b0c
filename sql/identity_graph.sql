-- Every identity record with its customer: the connected components of the links. The
-- customer id is derived from the smallest record key of the component, so it does not
-- depend on row order; match_probability is filled in by the probabilistic model (NULL for
-- this rule-based baseline).
WITH nodes AS (
  SELECT record_key FROM identity_records
),
edges AS (
  SELECT left_key, right_key FROM identity_edges
  UNION ALL
  SELECT record_key, CAST(NULL AS VARCHAR) FROM nodes
),
components AS (
  SELECT unnest(connected_components(left_key, right_key)) AS c FROM edges
)
SELECT split_part(c['node'], ':', 1)                      AS source,
       substr(c['node'], strpos(c['node'], ':') + 1)      AS source_record_id,
       'C' || substr(md5(c['component']), 1, 12)          AS customer_id,
       CAST(NULL AS DOUBLE)                               AS match_probability
FROM components
