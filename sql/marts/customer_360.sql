-- One row per customer: the table analysts and BI tools open first. The golden record
-- (customers), behaviour and health (customer_features), the journey stage
-- (customer_journey), segments (customer_segments) and predictions (customer_predictions).
SELECT c.customer_id, c.first_name, c.last_name, c.email, c.phone, c.postcode, c.birth_date,
       c.customer_since, c.records, c.sources,
       f.pet_types, f.tenure_days, f.recency_days, f.frequency, f.monetary,
       f.average_order_value, f.last_order_at, f.preferred_category,
       f.subscription_state, f.trial_converted,
       f.email_open_rate, f.email_click_rate, f.email_unsubscribed,
       f.web_events_30d, f.web_events_90d, f.web_trend,
       f.tickets, f.tickets_90d, f.csat, f.latest_nps,
       f.distress_index, f.distress_support, f.distress_satisfaction, f.distress_engagement,
       f.distress_subscription,
       j.stage AS journey_stage, j.trial_at, j.paid_at, j.loyal_at, j.churned_at,
       s.rfm_segment, s.value_segment,
       p.churn_probability, p.churn_percentile, p.churn_risk, p.churn_factors,
       p.p_alive, p.expected_orders_90d, p.expected_order_value, p.clv_12m,
       p.next_best_offer_id, p.next_best_offer, p.next_best_offer_channel,
       p.next_best_offer_value,
       p.cross_sell_probability, p.upsell_probability, p.next_category,
       p.next_category_probability, p.predicted_nps_class, p.preferred_channel,
       p.preferred_channels
FROM customers c
LEFT JOIN customer_features f ON f.customer_id = c.customer_id
LEFT JOIN customer_journey j ON j.customer_id = c.customer_id
LEFT JOIN customer_segments s ON s.customer_id = c.customer_id
LEFT JOIN customer_predictions p ON p.customer_id = c.customer_id
