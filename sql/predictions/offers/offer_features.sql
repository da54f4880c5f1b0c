-- What the offer model knows about a customer facing an offer: at the moment of every offer
-- decision in the history (labelled: did they buy from the offer's category within 14 days,
-- whether the offer was sent or held back in the control group) and, to score, at the data's
-- end for every customer with a shop account and every offer of the catalogue. Each row reads
-- only the events before its moment (category counts and shares over the whole history, activity
-- over the last year), and only the outcomes of earlier offers that were
-- known by then (14 days after their decision), so no feature knows the future. Decisions of the
-- last 180 days form the holdout, older ones the training rows.
WITH accounts AS (
  SELECT source_record_id AS account, customer_id FROM identity_graph WHERE source = 'shop_accounts'
),
-- Each customer with a shop account once (a customer may have several accounts). The scoring
-- rows below are made from it, not by a DISTINCT over the customers x offers: DataFusion 55
-- emits a DISTINCT whose group columns include constants ('score', NULL) as partially sorted,
-- copying its groups again for every batch it emits (115 s for the 11 M rows at a million
-- customers).
with_account AS (SELECT DISTINCT customer_id FROM accounts),
decisions AS (
  SELECT CASE WHEN h.decided_at >= t.as_of - INTERVAL '180 days' THEN 'holdout' ELSE 'train' END AS snapshot,
         h.decision_id, a.customer_id, h.offer_id, h.decided_at AS at,
         h.treatment_group = 'treatment' AS treated, h.converted
  FROM stg_offer_history h JOIN accounts a ON a.account = CAST(h.account_id AS VARCHAR)
  CROSS JOIN as_of t
),
-- Every moment carries its snapshot through to the output, so that a run that rebuilds only
-- the scoring rows ([models.offer_features] rebuild) computes the activity of those moments only.
moments AS (
  SELECT DISTINCT snapshot, customer_id, at FROM decisions
  UNION ALL
  -- (named like the first branch: DataFusion 55 loses the union's names when a filter
  -- prunes that branch away)
  SELECT 'score' AS snapshot, a.customer_id, t.as_of AS at FROM with_account a CROSS JOIN as_of t
),
e AS (
  SELECT m.snapshot, m.customer_id, m.at AS moment, c.event_type, c.category, c.value,
         date_part('epoch', m.at - c.at) / 86400 AS age_days
  FROM moments m JOIN customer_events c
    ON c.customer_id = m.customer_id AND c.at < m.at
  WHERE c.event_type IN ('order', 'product_view', 'favourite', 'add_to_cart', 'email_open', 'email_click')
),
activity AS (
  SELECT snapshot, customer_id, moment,
         count(*) FILTER (WHERE event_type = 'order') AS orders,
         count(*) FILTER (WHERE event_type = 'order' AND age_days <= 365) AS orders_365d,
         coalesce(round(sum(value) FILTER (WHERE event_type = 'order' AND age_days <= 365), 2), 0) AS spend_365d,
         min(age_days) FILTER (WHERE event_type = 'order') AS days_since_order,
         count(*) FILTER (WHERE event_type IN ('product_view', 'favourite', 'add_to_cart') AND age_days <= 90) AS web_90d,
         count(*) FILTER (WHERE event_type = 'email_open' AND age_days <= 90) AS emails_opened_90d,
         count(*) FILTER (WHERE event_type = 'email_click' AND age_days <= 90) AS emails_clicked_90d,
         count(*) FILTER (WHERE event_type = 'order' AND category = 'food') AS orders_food,
         count(*) FILTER (WHERE event_type = 'order' AND category = 'treats') AS orders_treats,
         count(*) FILTER (WHERE event_type = 'order' AND category = 'toys') AS orders_toys,
         count(*) FILTER (WHERE event_type = 'order' AND category = 'vitamins') AS orders_vitamins,
         count(*) FILTER (WHERE event_type = 'order' AND category = 'accessories') AS orders_accessories,
         count(*) FILTER (WHERE event_type = 'order' AND category = 'grooming') AS orders_grooming,
         count(*) FILTER (WHERE event_type <> 'order' AND event_type NOT LIKE 'email%' AND category = 'food') AS views_food,
         count(*) FILTER (WHERE event_type <> 'order' AND event_type NOT LIKE 'email%' AND category = 'treats') AS views_treats,
         count(*) FILTER (WHERE event_type <> 'order' AND event_type NOT LIKE 'email%' AND category = 'toys') AS views_toys,
         count(*) FILTER (WHERE event_type <> 'order' AND event_type NOT LIKE 'email%' AND category = 'vitamins') AS views_vitamins,
         count(*) FILTER (WHERE event_type <> 'order' AND event_type NOT LIKE 'email%' AND category = 'accessories') AS views_accessories,
         count(*) FILTER (WHERE event_type <> 'order' AND event_type NOT LIKE 'email%' AND category = 'grooming') AS views_grooming
  FROM e GROUP BY snapshot, customer_id, moment
),
past AS (
  SELECT m.snapshot, m.customer_id, m.at AS moment,
         count(*) FILTER (WHERE d.treated) AS past_offers,
         count(*) FILTER (WHERE d.treated AND d.converted) AS past_conversions,
         count(*) FILTER (WHERE d.treated AND o.discount_pct > 0) AS past_discount_offers,
         count(*) FILTER (WHERE d.treated AND d.converted AND o.discount_pct > 0) AS past_discount_conversions,
         count(*) FILTER (WHERE NOT d.treated AND d.converted) AS past_control_conversions
  FROM moments m
  JOIN decisions d ON d.customer_id = m.customer_id AND d.at < m.at - INTERVAL '14 days'
  JOIN stg_offers o ON o.offer_id = d.offer_id
  GROUP BY m.snapshot, m.customer_id, m.at
),
rows AS (
  SELECT d.snapshot, d.decision_id, d.customer_id, d.offer_id, d.at, d.treated, d.converted
  FROM decisions d
  UNION ALL
  SELECT 'score' AS snapshot, CAST(NULL AS BIGINT) AS decision_id, a.customer_id,
         o.offer_id, t.as_of AS at, CAST(NULL AS BOOLEAN) AS treated, CAST(NULL AS BOOLEAN) AS converted
  FROM with_account a CROSS JOIN stg_offers o CROSS JOIN as_of t
)
SELECT r.snapshot, r.decision_id, r.customer_id, r.offer_id, r.treated, r.converted,
       o.kind AS offer_kind, o.category AS offer_category, o.discount_pct,
       CASE o.category WHEN 'food' THEN a.orders_food WHEN 'treats' THEN a.orders_treats
         WHEN 'toys' THEN a.orders_toys WHEN 'vitamins' THEN a.orders_vitamins
         WHEN 'accessories' THEN a.orders_accessories ELSE a.orders_grooming END AS category_orders,
       CASE o.category WHEN 'food' THEN a.views_food WHEN 'treats' THEN a.views_treats
         WHEN 'toys' THEN a.views_toys WHEN 'vitamins' THEN a.views_vitamins
         WHEN 'accessories' THEN a.views_accessories ELSE a.views_grooming END AS category_views,
       CASE o.category WHEN 'food' THEN a.orders_food WHEN 'treats' THEN a.orders_treats
         WHEN 'toys' THEN a.orders_toys WHEN 'vitamins' THEN a.orders_vitamins
         WHEN 'accessories' THEN a.orders_accessories ELSE a.orders_grooming END
         / CAST(nullif(a.orders, 0) AS DOUBLE) AS category_share,
       CASE o.category WHEN 'food' THEN a.views_food WHEN 'treats' THEN a.views_treats
         WHEN 'toys' THEN a.views_toys WHEN 'vitamins' THEN a.views_vitamins
         WHEN 'accessories' THEN a.views_accessories ELSE a.views_grooming END
         / CAST(nullif(a.views_food + a.views_treats + a.views_toys + a.views_vitamins
                       + a.views_accessories + a.views_grooming, 0) AS DOUBLE) AS category_view_share,
       coalesce(a.orders_365d, 0) AS orders_365d, coalesce(a.spend_365d, 0) AS spend_365d,
       a.days_since_order, coalesce(a.web_90d, 0) AS web_90d,
       coalesce(a.emails_opened_90d, 0) AS emails_opened_90d,
       coalesce(a.emails_clicked_90d, 0) AS emails_clicked_90d,
       coalesce(p.past_offers, 0) AS past_offers,
       coalesce(p.past_conversions, 0) AS past_conversions,
       coalesce(p.past_discount_offers, 0) AS past_discount_offers,
       coalesce(p.past_discount_conversions, 0) AS past_discount_conversions,
       coalesce(p.past_control_conversions, 0) AS past_control_conversions
FROM rows r
JOIN stg_offers o ON o.offer_id = r.offer_id
LEFT JOIN activity a ON a.snapshot = r.snapshot AND a.customer_id = r.customer_id AND a.moment = r.at
LEFT JOIN past p ON p.snapshot = r.snapshot AND p.customer_id = r.customer_id AND p.moment = r.at
