-- The predictive traits' rows: churn_features (activity, spend, web, e-mail, support,
-- satisfaction and subscription of every active customer at the three snapshots) with what
-- they bought of each category up to the snapshot (counts, shares, the most frequent and the
-- latest category), and what happened in the 90 days after it
-- (train and holdout only): the category of the next order, whether they bought a category
-- new to them (cross-sell), whether they spent half as much again as in the 90 days before
-- (upsell), and the class of their next NPS answer (promoter 9-10, passive 7-8, detractor 0-6).
WITH snapshots AS (
  SELECT 'train' AS snapshot, as_of - INTERVAL '180 days' AS at FROM as_of
  UNION ALL SELECT 'holdout' AS snapshot, as_of - INTERVAL '90 days' AS at FROM as_of
  UNION ALL SELECT 'score' AS snapshot, as_of AS at FROM as_of
),
bought AS (
  SELECT s.snapshot, c.customer_id,
         count(*) FILTER (WHERE c.category = 'food') AS orders_food,
         count(*) FILTER (WHERE c.category = 'treats') AS orders_treats,
         count(*) FILTER (WHERE c.category = 'toys') AS orders_toys,
         count(*) FILTER (WHERE c.category = 'vitamins') AS orders_vitamins,
         count(*) FILTER (WHERE c.category = 'accessories') AS orders_accessories,
         count(*) FILTER (WHERE c.category = 'grooming') AS orders_grooming,
         most_recent(c.category, c.at) AS last_category,
         most_frequent(c.category) AS top_category,
         count(*) AS category_orders
  FROM customer_events c JOIN snapshots s ON c.at <= s.at
  WHERE c.event_type = 'order'
  GROUP BY s.snapshot, c.customer_id
),
after AS (
  SELECT s.snapshot, c.customer_id,
         first_value(c.category ORDER BY c.at) FILTER (WHERE c.event_type = 'order') AS next_category,
         first_value(c.value ORDER BY c.at) FILTER (WHERE c.event_type = 'nps') AS next_nps,
         coalesce(round(sum(c.value) FILTER (WHERE c.event_type = 'order'), 2), 0) AS spend_next_90d,
         count(*) FILTER (WHERE c.event_type = 'order' AND c.category = 'food') AS food,
         count(*) FILTER (WHERE c.event_type = 'order' AND c.category = 'treats') AS treats,
         count(*) FILTER (WHERE c.event_type = 'order' AND c.category = 'toys') AS toys,
         count(*) FILTER (WHERE c.event_type = 'order' AND c.category = 'vitamins') AS vitamins,
         count(*) FILTER (WHERE c.event_type = 'order' AND c.category = 'accessories') AS accessories,
         count(*) FILTER (WHERE c.event_type = 'order' AND c.category = 'grooming') AS grooming
  FROM customer_events c JOIN snapshots s
    ON c.at > s.at AND c.at <= s.at + INTERVAL '90 days'
  WHERE s.snapshot <> 'score' AND c.event_type IN ('order', 'nps')
  GROUP BY s.snapshot, c.customer_id
)
SELECT f.* EXCLUDE (churned),
       coalesce(b.orders_food, 0) AS orders_food, coalesce(b.orders_treats, 0) AS orders_treats,
       coalesce(b.orders_toys, 0) AS orders_toys, coalesce(b.orders_vitamins, 0) AS orders_vitamins,
       coalesce(b.orders_accessories, 0) AS orders_accessories,
       coalesce(b.orders_grooming, 0) AS orders_grooming, b.last_category, b.top_category,
       b.orders_food / CAST(b.category_orders AS DOUBLE) AS share_food,
       b.orders_treats / CAST(b.category_orders AS DOUBLE) AS share_treats,
       b.orders_toys / CAST(b.category_orders AS DOUBLE) AS share_toys,
       b.orders_vitamins / CAST(b.category_orders AS DOUBLE) AS share_vitamins,
       b.orders_accessories / CAST(b.category_orders AS DOUBLE) AS share_accessories,
       b.orders_grooming / CAST(b.category_orders AS DOUBLE) AS share_grooming,
       a.next_category,
       CASE WHEN f.snapshot = 'score' THEN NULL
            ELSE (coalesce(a.food, 0) > 0 AND coalesce(b.orders_food, 0) = 0)
              OR (coalesce(a.treats, 0) > 0 AND coalesce(b.orders_treats, 0) = 0)
              OR (coalesce(a.toys, 0) > 0 AND coalesce(b.orders_toys, 0) = 0)
              OR (coalesce(a.vitamins, 0) > 0 AND coalesce(b.orders_vitamins, 0) = 0)
              OR (coalesce(a.accessories, 0) > 0 AND coalesce(b.orders_accessories, 0) = 0)
              OR (coalesce(a.grooming, 0) > 0 AND coalesce(b.orders_grooming, 0) = 0)
       END AS cross_sell,
       CASE WHEN f.snapshot = 'score' THEN NULL
            ELSE coalesce(a.spend_next_90d, 0) > 0
                 AND coalesce(a.spend_next_90d, 0) >= 1.5 * f.spend_90d
       END AS upsell,
       CASE WHEN a.next_nps >= 9 THEN 'promoter' WHEN a.next_nps >= 7 THEN 'passive'
            WHEN a.next_nps IS NOT NULL THEN 'detractor' END AS nps_class
FROM churn_features f
LEFT JOIN bought b ON b.snapshot = f.snapshot AND b.customer_id = f.customer_id
LEFT JOIN after a ON a.snapshot = f.snapshot AND a.customer_id = f.customer_id
