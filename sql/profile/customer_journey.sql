-- The stage of each customer on awareness -> trial -> paid -> loyal, or churned, with the time
-- of each transition:
--   aware_at    the first event of any kind (a visit, an e-mail, a ticket);
--   trial_at    the first subscription trial;
--   paid_at     the first money: a paid subscription or an order, whichever came first;
--   loyal_at    the third order;
--   churned_at  the last cancellation when nothing was paid or bought after it, or, for a
--               customer who paid before but has no running subscription, 180 days after the
--               last order once those 180 days have passed.
-- The stage is the last of these the customer reached, churned overriding the others.
WITH t AS (SELECT as_of FROM as_of),
ordered AS (
  SELECT customer_id, at, row_number() OVER (PARTITION BY customer_id ORDER BY at) AS n
  FROM customer_events WHERE event_type = 'order'
),
steps AS (
  SELECT e.customer_id,
         min(e.at) AS aware_at,
         min(e.at) FILTER (WHERE e.event_type = 'trial_start') AS trial_at,
         min(e.at) FILTER (WHERE e.event_type IN ('subscription_paid', 'order')) AS paid_at,
         max(e.at) FILTER (WHERE e.event_type IN ('subscription_paid', 'order')) AS last_paid_at,
         max(e.at) FILTER (WHERE e.event_type = 'order') AS last_order_at,
         max(e.at) FILTER (WHERE e.event_type = 'subscription_paid') AS last_subscribed_at,
         max(e.at) FILTER (WHERE e.event_type = 'subscription_cancelled') AS last_cancelled_at
  FROM customer_events e
  GROUP BY e.customer_id
),
dated AS (
  SELECT s.*, o.at AS loyal_at,
         CASE
           WHEN s.last_cancelled_at IS NOT NULL AND s.last_cancelled_at >= s.last_paid_at
             THEN s.last_cancelled_at
           WHEN s.paid_at IS NOT NULL
                AND (s.last_subscribed_at IS NULL OR s.last_cancelled_at >= s.last_subscribed_at)
                AND s.last_order_at + INTERVAL '180 days' <= t.as_of
             THEN s.last_order_at + INTERVAL '180 days'
         END AS churned_at
  FROM steps s CROSS JOIN t
  LEFT JOIN ordered o ON o.customer_id = s.customer_id AND o.n = 3
)
SELECT c.customer_id,
       CASE WHEN d.churned_at IS NOT NULL THEN 'churned'
            WHEN d.loyal_at IS NOT NULL THEN 'loyal'
            WHEN d.paid_at IS NOT NULL THEN 'paid'
            WHEN d.trial_at IS NOT NULL THEN 'trial'
            ELSE 'awareness' END AS stage,
       d.aware_at, d.trial_at, d.paid_at, d.loyal_at, d.churned_at
FROM customers c
LEFT JOIN dated d ON d.customer_id = c.customer_id
