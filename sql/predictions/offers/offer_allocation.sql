-- The campaign the sample can afford: at most one offer per customer (and none for customers
-- the contact policy has already reached twice in 30 days... see offer_candidates), the sends
-- that earn most in total within a budget of 250 (allocate_offers).
SELECT a.customer_id, CAST(a.offer_id AS BIGINT) AS offer_id, o.name AS offer_name, a.channel,
       a.uplift, a.margin, a.cost, a.expected_value
FROM allocate_offers('offer_candidates', 250.0, 1) a
JOIN stg_offers o ON o.offer_id = CAST(a.offer_id AS BIGINT)
