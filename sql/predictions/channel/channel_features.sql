-- The preferred-channel rows: every offer sent (not the control group), labelled by whether the
-- customer opened its message, and, to score, every customer with a shop account on every
-- channel at the data's end. Each row knows what the customer did with the offers sent before
-- its moment (on this channel and on any), their age then, and their activity as of the
-- decision (offer_features). Sends of the last 180 days form the holdout.
WITH accounts AS (
  SELECT source_record_id AS account, customer_id FROM identity_graph WHERE source = 'shop_accounts'
),
sends AS (
  SELECT h.decision_id, a.customer_id, h.channel, h.decided_at AS at, h.opened
  FROM stg_offer_history h JOIN accounts a ON a.account = CAST(h.account_id AS VARCHAR)
  WHERE h.treatment_group = 'treatment' AND h.channel IS NOT NULL
),
channels AS (SELECT * FROM (VALUES ('email'), ('push'), ('sms')) AS c(channel)),
moments AS (
  SELECT CASE WHEN s.at >= t.as_of - INTERVAL '180 days' THEN 'holdout' ELSE 'train' END AS snapshot,
         s.decision_id, s.customer_id, s.channel, s.at, s.opened
  FROM sends s CROSS JOIN as_of t
  UNION ALL
  -- (named like the first branch: DataFusion 55 loses the union's names when a filter
  -- prunes that branch away)
  SELECT 'score' AS snapshot, CAST(NULL AS BIGINT) AS decision_id, a.customer_id, ch.channel,
         t.as_of AS at, CAST(NULL AS BOOLEAN) AS opened
  FROM (SELECT DISTINCT customer_id FROM accounts) a CROSS JOIN channels ch CROSS JOIN as_of t
),
history AS (
  SELECT m.snapshot, m.customer_id, m.channel, m.at,
         count(p.decision_id) FILTER (WHERE p.channel = m.channel) AS sends_on_channel,
         count(p.decision_id) FILTER (WHERE p.channel = m.channel AND p.opened) AS opens_on_channel,
         count(p.decision_id) AS sends_before,
         count(p.decision_id) FILTER (WHERE p.opened) AS opens_before
  FROM moments m LEFT JOIN sends p ON p.customer_id = m.customer_id AND p.at < m.at
  GROUP BY m.snapshot, m.customer_id, m.channel, m.at
),
activity AS (
  SELECT DISTINCT snapshot, decision_id, customer_id, emails_opened_90d, emails_clicked_90d,
         web_90d, orders_365d, days_since_order
  FROM offer_features
  WHERE snapshot <> 'score' OR offer_id = (SELECT min(offer_id) FROM stg_offers)
)
SELECT m.snapshot, m.decision_id, m.customer_id, m.opened, m.channel,
       date_part('day', m.at - CAST(c.birth_date AS TIMESTAMP)) / 365.25 AS age_years,
       h.sends_on_channel, h.opens_on_channel / CAST(nullif(h.sends_on_channel, 0) AS DOUBLE) AS channel_open_rate,
       h.sends_before, h.opens_before / CAST(nullif(h.sends_before, 0) AS DOUBLE) AS open_rate,
       a.emails_opened_90d, a.emails_clicked_90d, a.web_90d, a.orders_365d, a.days_since_order
FROM moments m
JOIN history h ON h.snapshot = m.snapshot AND h.customer_id = m.customer_id
  AND h.channel = m.channel AND h.at = m.at
LEFT JOIN customers c ON c.customer_id = m.customer_id
LEFT JOIN activity a ON a.snapshot = m.snapshot AND a.customer_id = m.customer_id
  AND (m.snapshot = 'score' OR a.decision_id = m.decision_id)
