-- The purchase funnel, page view -> product view -> add to cart -> order -> paid subscription,
-- each step within 90 days of the visit that starts it (window_funnel), per RFM segment and
-- signup month: customers reaching each step, conversion from the step before, and the median
-- minutes from the step before (funnel_step_seconds of the same chain).
WITH chains AS (
  SELECT customer_id,
         -- One event meets one condition here, so no step is reached by the event before it.
         funnel_step_seconds(INTERVAL '90 days', at,
           event_type = 'page_view',
           event_type = 'product_view',
           event_type = 'add_to_cart',
           event_type = 'order',
           event_type = 'subscription_paid') AS seconds
  FROM customer_events
  GROUP BY customer_id
),
customers_steps AS (
  SELECT f.customer_id,
         coalesce(f.rfm_segment, 'No orders') AS segment,
         date_trunc('month', f.first_seen_at) AS signup_month,
         c.seconds
  FROM customer_features f JOIN chains c ON c.customer_id = f.customer_id
),
reached AS (
  SELECT segment, signup_month, step,
         CASE WHEN step > 1 THEN (seconds[step] - seconds[step - 1]) / 60 END AS minutes_from_previous
  FROM customers_steps
  CROSS JOIN (SELECT unnest([1, 2, 3, 4, 5]) AS step)
  WHERE cardinality(seconds) >= step
),
counted AS (
  SELECT segment, signup_month, step, count(*) AS customers,
         median(minutes_from_previous) AS median_minutes_from_previous
  FROM reached
  GROUP BY segment, signup_month, step
)
SELECT segment, signup_month, step,
       CASE step WHEN 1 THEN 'visit' WHEN 2 THEN 'product_view' WHEN 3 THEN 'add_to_cart'
                 WHEN 4 THEN 'order' ELSE 'paid_subscription' END AS step_name,
       customers,
       CAST(customers AS DOUBLE) / lag(customers) OVER (PARTITION BY segment, signup_month ORDER BY step) AS conversion,
       median_minutes_from_previous
FROM counted
