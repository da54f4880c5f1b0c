-- One row per customer: who they are (from the golden record), how they buy (RFM, categories),
-- their subscription, engagement with e-mail and the web site, support and satisfaction, and
-- the health figures built on them. Everything as of the latest event in the data (as_of).
WITH t AS (SELECT as_of FROM as_of),
e AS (
  SELECT c.*, date_part('epoch', t.as_of - c.at) / 86400 AS age_days
  FROM customer_events c CROSS JOIN t
),
orders AS (
  SELECT customer_id,
         count(*) AS orders,
         round(sum(value), 2) AS spend,
         round(sum(value), 2) / count(value) AS average_order_value,
         min(at) AS first_order_at,
         max(at) AS last_order_at,
         min(age_days) AS recency_days,
         count(*) FILTER (WHERE age_days <= 90) AS orders_90d,
         count(*) FILTER (WHERE category = 'food') AS orders_food,
         count(*) FILTER (WHERE category = 'treats') AS orders_treats,
         count(*) FILTER (WHERE category = 'toys') AS orders_toys,
         count(*) FILTER (WHERE category = 'accessories') AS orders_accessories,
         count(*) FILTER (WHERE category = 'grooming') AS orders_grooming,
         count(*) FILTER (WHERE category = 'vitamins') AS orders_vitamins,
         coalesce(round(sum(value) FILTER (WHERE category = 'food'), 2), 0) AS spend_food,
         coalesce(round(sum(value) FILTER (WHERE category = 'treats'), 2), 0) AS spend_treats,
         coalesce(round(sum(value) FILTER (WHERE category = 'toys'), 2), 0) AS spend_toys,
         coalesce(round(sum(value) FILTER (WHERE category = 'accessories'), 2), 0) AS spend_accessories,
         coalesce(round(sum(value) FILTER (WHERE category = 'grooming'), 2), 0) AS spend_grooming,
         coalesce(round(sum(value) FILTER (WHERE category = 'vitamins'), 2), 0) AS spend_vitamins,
         most_frequent(category) AS preferred_category
  FROM e WHERE event_type = 'order'
  GROUP BY customer_id
),
subscription AS (
  SELECT customer_id,
         count(*) FILTER (WHERE event_type = 'trial_start') AS trials,
         count(*) FILTER (WHERE event_type = 'subscription_paid') AS paid_subscriptions,
         count(*) FILTER (WHERE event_type = 'subscription_cancelled') AS cancellations,
         max(at) FILTER (WHERE event_type = 'subscription_paid') AS last_paid_at,
         max(at) FILTER (WHERE event_type = 'subscription_cancelled') AS last_cancelled_at,
         max(at) FILTER (WHERE event_type = 'trial_start') AS last_trial_at,
         count(*) FILTER (WHERE event_type = 'subscription_cancelled' AND age_days <= 90) AS cancellations_90d
  FROM e WHERE event_type IN ('trial_start', 'subscription_paid', 'subscription_cancelled')
  GROUP BY customer_id
),
email AS (
  SELECT customer_id,
         count(*) FILTER (WHERE event_type = 'email_sent') AS emails_sent,
         count(*) FILTER (WHERE event_type = 'email_open') AS emails_opened,
         count(*) FILTER (WHERE event_type = 'email_click') AS emails_clicked,
         count(*) FILTER (WHERE event_type = 'email_unsubscribe') > 0 AS unsubscribed
  FROM e WHERE event_type LIKE 'email_%'
  GROUP BY customer_id
),
web AS (
  SELECT customer_id,
         count(*) FILTER (WHERE age_days <= 30) AS web_events_30d,
         count(*) FILTER (WHERE age_days <= 90) AS web_events_90d,
         count(*) FILTER (WHERE age_days > 30 AND age_days <= 90) AS web_events_30_90d,
         count(*) FILTER (WHERE event_type = 'add_to_cart' AND age_days <= 90) AS carts_90d,
         max(at) AS last_web_at
  FROM e WHERE event_type IN ('page_view', 'product_view', 'favourite', 'add_to_cart')
  GROUP BY customer_id
),
support AS (
  SELECT customer_id,
         count(*) AS tickets,
         count(*) FILTER (WHERE age_days <= 90) AS tickets_90d,
         avg(value) AS average_csat,
         csat(value) AS csat,
         CAST(count(*) FILTER (WHERE value <= 2) AS DOUBLE) / nullif(count(value), 0) AS low_csat_share
  FROM e WHERE event_type = 'ticket'
  GROUP BY customer_id
),
survey AS (
  SELECT customer_id, CAST(most_recent(value, at) AS BIGINT) AS latest_nps, count(*) AS nps_answers
  FROM e WHERE event_type = 'nps'
  GROUP BY customer_id
),
activity AS (
  SELECT customer_id, min(at) AS first_seen_at, max(at) AS last_seen_at FROM e GROUP BY customer_id
),
pets AS (
  SELECT g.customer_id, most_frequent(c.pet_types) AS pet_types
  FROM identity_graph g JOIN stg_crm_contacts c ON g.source = 'crm_contacts' AND c.contact_id = g.source_record_id
  GROUP BY g.customer_id
),
base AS (
  SELECT c.customer_id, c.first_name, c.last_name, c.email, c.postcode, p.pet_types,
         a.first_seen_at, a.last_seen_at,
         date_part('epoch', t.as_of - coalesce(a.first_seen_at, c.first_seen_at)) / 86400 AS tenure_days,
         o.recency_days, coalesce(o.orders, 0) AS frequency, coalesce(o.spend, 0) AS monetary,
         o.average_order_value, o.first_order_at, o.last_order_at, coalesce(o.orders_90d, 0) AS orders_90d,
         coalesce(o.orders_food, 0) AS orders_food, coalesce(o.orders_treats, 0) AS orders_treats,
         coalesce(o.orders_toys, 0) AS orders_toys, coalesce(o.orders_accessories, 0) AS orders_accessories,
         coalesce(o.orders_grooming, 0) AS orders_grooming, coalesce(o.orders_vitamins, 0) AS orders_vitamins,
         coalesce(o.spend_food, 0) AS spend_food, coalesce(o.spend_treats, 0) AS spend_treats,
         coalesce(o.spend_toys, 0) AS spend_toys, coalesce(o.spend_accessories, 0) AS spend_accessories,
         coalesce(o.spend_grooming, 0) AS spend_grooming, coalesce(o.spend_vitamins, 0) AS spend_vitamins,
         o.preferred_category,
         CASE WHEN s.last_cancelled_at IS NOT NULL AND s.last_cancelled_at >= coalesce(s.last_paid_at, s.last_trial_at) THEN 'cancelled'
              WHEN s.last_paid_at IS NOT NULL THEN 'paid'
              WHEN s.last_trial_at IS NOT NULL AND date_part('epoch', t.as_of - s.last_trial_at) / 86400 <= 14 THEN 'trial'
              WHEN s.last_trial_at IS NOT NULL THEN 'trial_lapsed'
              ELSE 'none' END AS subscription_state,
         coalesce(s.trials, 0) AS trials,
         s.trials > 0 AND s.paid_subscriptions > 0 AS trial_converted,
         coalesce(s.cancellations_90d, 0) > 0 AS subscription_lost_90d,
         coalesce(m.emails_sent, 0) AS emails_sent,
         CAST(m.emails_opened AS DOUBLE) / nullif(m.emails_sent, 0) AS email_open_rate,
         CAST(m.emails_clicked AS DOUBLE) / nullif(m.emails_sent, 0) AS email_click_rate,
         coalesce(m.unsubscribed, false) AS email_unsubscribed,
         coalesce(w.web_events_30d, 0) AS web_events_30d, coalesce(w.web_events_90d, 0) AS web_events_90d,
         coalesce(w.carts_90d, 0) AS carts_90d,
         -- Events per day in the last 30 days against the 60 days before: -0.5 is half as active.
         CASE WHEN coalesce(w.web_events_30_90d, 0) = 0 THEN NULL
              ELSE (w.web_events_30d / 30.0) / (w.web_events_30_90d / 60.0) - 1 END AS web_trend,
         coalesce(h.tickets, 0) AS tickets, coalesce(h.tickets_90d, 0) AS tickets_90d,
         h.average_csat, h.csat, h.low_csat_share,
         v.latest_nps, coalesce(v.nps_answers, 0) AS nps_answers
  FROM customers c CROSS JOIN t
  LEFT JOIN activity a ON a.customer_id = c.customer_id
  LEFT JOIN orders o ON o.customer_id = c.customer_id
  LEFT JOIN subscription s ON s.customer_id = c.customer_id
  LEFT JOIN email m ON m.customer_id = c.customer_id
  LEFT JOIN web w ON w.customer_id = c.customer_id
  LEFT JOIN support h ON h.customer_id = c.customer_id
  LEFT JOIN survey v ON v.customer_id = c.customer_id
  LEFT JOIN pets p ON p.customer_id = c.customer_id
),
scored AS (
  SELECT b.*,
         -- RFM quintiles over the customers who ordered (5 best); others have no RFM score.
         CASE WHEN frequency > 0 THEN ntile(5) OVER (PARTITION BY frequency > 0 ORDER BY recency_days DESC, customer_id) END AS r_score,
         CASE WHEN frequency > 0 THEN ntile(5) OVER (PARTITION BY frequency > 0 ORDER BY frequency, customer_id) END AS f_score,
         CASE WHEN frequency > 0 THEN ntile(5) OVER (PARTITION BY frequency > 0 ORDER BY monetary, customer_id) END AS m_score,
         distress_index(tickets_90d, low_csat_share, latest_nps, web_trend, subscription_lost_90d) AS distress
  FROM base b
)
SELECT * EXCLUDE (distress),
       rfm_segment(r_score, f_score, m_score) AS rfm_segment,
       distress['distress_index'] AS distress_index,
       distress['support'] AS distress_support,
       distress['satisfaction'] AS distress_satisfaction,
       distress['engagement'] AS distress_engagement,
       distress['subscription'] AS distress_subscription
FROM scored
