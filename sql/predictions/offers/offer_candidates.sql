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
  SELECT category, round(sum(amount), 2) / count(amount) AS order_value FROM stg_orders GROUP BY category
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
),
-- What each customer allows: one row per customer.
allowed AS (
  SELECT cf.customer_id, coalesce(cf.email_unsubscribed, false) AS email_unsubscribed,
         cu.phone IS NULL AS no_phone, coalesce(r.offers_in_period, 0) AS offers_in_period
  FROM customer_features cf
  LEFT JOIN customers cu ON cu.customer_id = cf.customer_id
  LEFT JOIN recent r ON r.customer_id = cf.customer_id
),
-- The joins below put the small table first (it builds the hash table) and the scored rows,
-- customers x offers x channels, second: they stream through, never held whole.
priced AS (
  SELECT s.customer_id, s.offer_id, s.uplift, s.acceptance,
         o.margin * v.order_value * (1 - o.discount_pct / 100) AS margin,
         o.cost,
         NOT (o.kind = 'sample' AND s.category_orders > 0) AS eligible
  FROM stg_offers o
  JOIN order_value v ON v.category = o.category
  JOIN scored s ON s.offer_id = o.offer_id
),
on_channels AS (
  SELECT p.*, c.channel FROM channels c CROSS JOIN priced p
),
with_customer AS (
  SELECT w.*, a.email_unsubscribed, a.no_phone, a.offers_in_period
  FROM allowed a RIGHT JOIN on_channels w ON a.customer_id = w.customer_id
)
SELECT w.customer_id, w.offer_id, w.channel, w.uplift, w.acceptance, w.margin, w.cost, w.eligible,
       CASE w.channel
         WHEN 'email' THEN coalesce(w.email_unsubscribed, false)
         WHEN 'sms' THEN coalesce(w.no_phone, true)
         ELSE false
       END AS opted_out,
       coalesce(w.offers_in_period, 0) AS offers_in_period,
       cs.rank AS channel_rank
FROM channel_scores cs
RIGHT JOIN with_customer w ON cs.customer_id = w.customer_id AND cs.channel = w.channel
