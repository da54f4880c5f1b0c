-- Predictions per customer as of the data's end. Churn: the probability that an active
-- customer goes quiet in the next 90 days (churn_model), its percentile and risk band among
-- the holdout's customers, and the five factors that moved it most; customers with no
-- activity in the last 90 days are already lapsed ('lapsed', no score). Lifetime value: the
-- BG/NBD probability of being alive, expected order days in the next 90 days, the Gamma-Gamma
-- expected order value and the 12-month value at 1% a month (clv_fit); NULL for customers who
-- never ordered. Next best offer: the most valuable offer of next_best_offers (expected value =
-- uplift × margin − cost within the eligibility rules and the contact policy), its channel and
-- value; NULL when no offer is worth sending. Traits of active customers (trait_features): the
-- probabilities of a cross-sell (a category new to them) and an upsell (half as much spend again)
-- in the next 90 days, the most likely category of their next order with its probability, and
-- the class their next NPS answer most likely falls in; the channels ranked by how likely the
-- customer opens an offer sent there (channel_scores), best first.
WITH churn AS (
  SELECT customer_id,
         churn_probability('churn', days_since_activity, tenure_days, days_since_order, orders,
           orders_30d, orders_90d, orders_90_180d, spend, spend_90d, web_30d, web_90d,
           web_90_180d, carts_90d, emails_opened_90d, emails_clicked_90d, unsubscribed,
           tickets, tickets_90d, average_csat, worst_csat_180d, latest_nps, had_trial,
           subscribed, cancelled, cancelled_90d) AS churn_probability,
         churn_factors('churn', days_since_activity, tenure_days, days_since_order, orders,
           orders_30d, orders_90d, orders_90_180d, spend, spend_90d, web_30d, web_90d,
           web_90_180d, carts_90d, emails_opened_90d, emails_clicked_90d, unsubscribed,
           tickets, tickets_90d, average_csat, worst_csat_180d, latest_nps, had_trial,
           subscribed, cancelled, cancelled_90d) AS churn_factors
  FROM churn_scoring
),
traits AS (
  SELECT customer_id,
         predict_probability('cross_sell',
           days_since_activity, tenure_days, days_since_order, orders, orders_30d, 
           orders_90d, orders_90_180d, spend, spend_90d, web_30d, web_90d, web_90_180d, 
           carts_90d, emails_opened_90d, emails_clicked_90d, unsubscribed, tickets, 
           tickets_90d, average_csat, worst_csat_180d, latest_nps, had_trial, subscribed, 
           cancelled, cancelled_90d, orders_food, orders_treats, orders_toys, 
           orders_vitamins, orders_accessories, orders_grooming, last_category, 
           top_category, share_food, share_treats, share_toys, share_vitamins, 
           share_accessories, share_grooming) AS cross_sell_probability,
         predict_probability('upsell',
           days_since_activity, tenure_days, days_since_order, orders, orders_30d, 
           orders_90d, orders_90_180d, spend, spend_90d, web_30d, web_90d, web_90_180d, 
           carts_90d, emails_opened_90d, emails_clicked_90d, unsubscribed, tickets, 
           tickets_90d, average_csat, worst_csat_180d, latest_nps, had_trial, subscribed, 
           cancelled, cancelled_90d, orders_food, orders_treats, orders_toys, 
           orders_vitamins, orders_accessories, orders_grooming, last_category, 
           top_category, share_food, share_treats, share_toys, share_vitamins, 
           share_accessories, share_grooming) AS upsell_probability,
         class_probabilities('next_category',
           orders, days_since_order, share_food, share_treats, share_toys, share_vitamins,
           share_accessories, share_grooming, top_category, last_category) AS next_categories,
         predict_class('nps_class',
           days_since_activity, tenure_days, days_since_order, orders, orders_30d, 
           orders_90d, orders_90_180d, spend, spend_90d, web_30d, web_90d, web_90_180d, 
           carts_90d, emails_opened_90d, emails_clicked_90d, unsubscribed, tickets, 
           tickets_90d, average_csat, worst_csat_180d, latest_nps, had_trial, subscribed, 
           cancelled, cancelled_90d, orders_food, orders_treats, orders_toys, 
           orders_vitamins, orders_accessories, orders_grooming, last_category, 
           top_category, share_food, share_treats, share_toys, share_vitamins, 
           share_accessories, share_grooming) AS predicted_nps_class
  FROM trait_features WHERE snapshot = 'score'
),
channels AS (
  SELECT customer_id, array_agg(channel ORDER BY rank) AS preferred_channels
  FROM channel_scores GROUP BY customer_id
),
value AS (
  SELECT customer_id,
         p_alive('clv', frequency, recency, t) AS p_alive,
         expected_purchases('clv', 90, frequency, recency, t) AS expected_orders_90d,
         expected_spend('clv', frequency, monetary_value) AS expected_order_value,
         clv('clv', 12, 0.01, frequency, recency, t, monetary_value) AS clv_12m
  FROM clv_inputs
)
SELECT c.customer_id,
       ch.churn_probability,
       churn_percentile('churn', ch.churn_probability) AS churn_percentile,
       CASE WHEN ch.customer_id IS NULL THEN 'lapsed'
            ELSE churn_risk_band('churn', ch.churn_probability) END AS churn_risk,
       ch.churn_factors,
       v.p_alive, v.expected_orders_90d, v.expected_order_value, v.clv_12m,
       o.offer_id AS next_best_offer_id, o.offer_name AS next_best_offer,
       o.channel AS next_best_offer_channel, o.expected_value AS next_best_offer_value,
       t.cross_sell_probability, t.upsell_probability,
       t.next_categories[1]['class'] AS next_category,
       t.next_categories[1]['probability'] AS next_category_probability,
       t.predicted_nps_class,
       ps.preferred_channels[1] AS preferred_channel, ps.preferred_channels
FROM customers c
LEFT JOIN churn ch ON ch.customer_id = c.customer_id
LEFT JOIN value v ON v.customer_id = c.customer_id
LEFT JOIN traits t ON t.customer_id = c.customer_id
LEFT JOIN channels ps ON ps.customer_id = c.customer_id
LEFT JOIN next_best_offers o ON o.customer_id = c.customer_id AND o.rank = 1
