-- Churn features of every active customer at three moments: 180 days before the data's end
-- (training, labelled by the 90 days after it), 90 days before (holdout, labelled by the 90
-- days after it, which the training never sees) and the end itself (scoring). Each snapshot
-- reads only events up to its moment, so no feature knows the future. Active means at least
-- one event of the customer's own (not an e-mail we sent) in the 90 days before; churned
-- means none in the 90 days after. Money sums are rounded to cents: the amounts are cents, so
-- the rounded sum is exact in whatever order the engine adds them (a float sum's last bits are
-- not, and a tree split on them would make two builds of the same data train other models).
WITH snapshots AS (
  SELECT 'train' AS snapshot, as_of - INTERVAL '180 days' AS at FROM as_of
  UNION ALL SELECT 'holdout' AS snapshot, as_of - INTERVAL '90 days' AS at FROM as_of
  UNION ALL SELECT 'score' AS snapshot, as_of AS at FROM as_of
),
e AS (
  SELECT s.snapshot, s.at AS snapshot_at, c.customer_id, c.event_type, c.value, c.at,
         date_part('epoch', s.at - c.at) / 86400 AS age_days
  FROM customer_events c JOIN snapshots s ON c.at <= s.at
),
features AS (
  SELECT snapshot, customer_id,
         min(age_days) FILTER (WHERE event_type <> 'email_sent') AS days_since_activity,
         max(age_days) AS tenure_days,
         min(age_days) FILTER (WHERE event_type = 'order') AS days_since_order,
         count(*) FILTER (WHERE event_type = 'order') AS orders,
         count(*) FILTER (WHERE event_type = 'order' AND age_days <= 30) AS orders_30d,
         count(*) FILTER (WHERE event_type = 'order' AND age_days <= 90) AS orders_90d,
         count(*) FILTER (WHERE event_type = 'order' AND age_days > 90 AND age_days <= 180) AS orders_90_180d,
         coalesce(round(sum(value) FILTER (WHERE event_type = 'order'), 2), 0) AS spend,
         coalesce(round(sum(value) FILTER (WHERE event_type = 'order' AND age_days <= 90), 2), 0) AS spend_90d,
         count(*) FILTER (WHERE event_type IN ('page_view', 'product_view', 'favourite', 'add_to_cart') AND age_days <= 30) AS web_30d,
         count(*) FILTER (WHERE event_type IN ('page_view', 'product_view', 'favourite', 'add_to_cart') AND age_days <= 90) AS web_90d,
         count(*) FILTER (WHERE event_type IN ('page_view', 'product_view', 'favourite', 'add_to_cart') AND age_days > 90 AND age_days <= 180) AS web_90_180d,
         count(*) FILTER (WHERE event_type = 'add_to_cart' AND age_days <= 90) AS carts_90d,
         count(*) FILTER (WHERE event_type = 'email_open' AND age_days <= 90) AS emails_opened_90d,
         count(*) FILTER (WHERE event_type = 'email_click' AND age_days <= 90) AS emails_clicked_90d,
         coalesce(bool_or(event_type = 'email_unsubscribe'), false) AS unsubscribed,
         count(*) FILTER (WHERE event_type = 'ticket') AS tickets,
         count(*) FILTER (WHERE event_type = 'ticket' AND age_days <= 90) AS tickets_90d,
         avg(value) FILTER (WHERE event_type = 'ticket') AS average_csat,
         min(value) FILTER (WHERE event_type = 'ticket' AND age_days <= 180) AS worst_csat_180d,
         most_recent(value, at) FILTER (WHERE event_type = 'nps') AS latest_nps,
         count(*) FILTER (WHERE event_type = 'trial_start') > 0 AS had_trial,
         count(*) FILTER (WHERE event_type = 'subscription_paid') > 0 AS subscribed,
         count(*) FILTER (WHERE event_type = 'subscription_cancelled') > 0 AS cancelled,
         count(*) FILTER (WHERE event_type = 'subscription_cancelled' AND age_days <= 90) > 0 AS cancelled_90d
  FROM e GROUP BY snapshot, customer_id
),
later AS (
  SELECT s.snapshot, c.customer_id
  FROM customer_events c JOIN snapshots s
    ON c.at > s.at AND c.at <= s.at + INTERVAL '90 days' AND c.event_type <> 'email_sent'
  WHERE s.snapshot <> 'score'
  GROUP BY s.snapshot, c.customer_id
)
SELECT f.*,
       CASE WHEN f.snapshot = 'score' THEN NULL ELSE l.customer_id IS NULL END AS churned
FROM features f
LEFT JOIN later l ON l.snapshot = f.snapshot AND l.customer_id = f.customer_id
WHERE f.days_since_activity <= 90
