-- Every offer of the catalogue for every customer with a shop account, on each channel, with
-- what sending it is worth as of the data's end: the uplift the offer model predicts, the margin
-- a conversion earns (the offer's margin share of the category's average order, less the offer's
-- discount) and the cost of a send. The sample's rules: a sample goes only to customers who have
-- not bought its category in the last year; e-mail is closed to customers who unsubscribed and
-- SMS to customers without a phone number. offers_in_period counts the offers sent in the last
-- 30 days, for the contact policy of next_best_offer and allocate_offers; channel_rank is the
-- channel's place among those the customer answers best (channel_scores), so that an offer
-- goes out on the customer's preferred open channel.
WITH f AS (SELECT * FROM offer_features WHERE snapshot = 'score'),
scored AS (
  SELECT customer_id, offer_id, category_orders,
         offer_uplift('offers', offer_kind, offer_category, discount_pct, category_orders,
           category_views, category_share, category_view_share, orders_365d, spend_365d, days_since_order, web_90d,
           emails_opened_90d, emails_clicked_90d, past_offers, past_conversions,
           past_discount_offers, past_discount_conversions, past_control_conversions) AS uplift,
         offer_acceptance('offers', offer_kind, offer_category, discount_pct, category_orders,
           category_views, category_share, category_view_share, orders_365d, spend_365d, days_since_order, web_90d,
           emails_opened_90d, emails_clicked_90d, past_offers, past_conversions,
           past_discount_offers, past_discount_conversions, past_control_conversions) AS acceptance
  FROM f
),
order_value AS (
  SELECT category, avg(amount) AS order_value FROM stg_orders GROUP BY category
),
recent AS (
  SELECT g.customer_id, count(*) AS offers_in_period
  FROM stg_offer_history h
  JOIN identity_graph g ON g.source = 'shop_accounts' AND g.source_record_id = CAST(h.account_id AS VARCHAR)
  CROSS JOIN as_of t
  WHERE h.treatment_group = 'treatment' AND h.decided_at > t.as_of - INTERVAL '30 days'
  GROUP BY g.customer_id
),
channels AS (
  SELECT * FROM (VALUES ('email'), ('push'), ('sms')) AS c(channel)
)
SELECT s.customer_id, s.offer_id, c.channel, s.uplift, s.acceptance,
       o.margin * v.order_value * (1 - o.discount_pct / 100) AS margin,
       o.cost,
       NOT (o.kind = 'sample' AND s.category_orders > 0) AS eligible,
       CASE c.channel
         WHEN 'email' THEN coalesce(cf.email_unsubscribed, false)
         WHEN 'sms' THEN cu.phone IS NULL
         ELSE false
       END AS opted_out,
       coalesce(r.offers_in_period, 0) AS offers_in_period,
       cs.rank AS channel_rank
FROM scored s
JOIN stg_offers o ON o.offer_id = s.offer_id
JOIN order_value v ON v.category = o.category
CROSS JOIN channels c
LEFT JOIN customer_features cf ON cf.customer_id = s.customer_id
LEFT JOIN customers cu ON cu.customer_id = s.customer_id
LEFT JOIN recent r ON r.customer_id = s.customer_id
LEFT JOIN channel_scores cs ON cs.customer_id = s.customer_id AND cs.channel = c.channel
