-- Each customer's three best offers by expected value (uplift × margin − cost), only those worth
-- more than nothing, on the best channel the customer has not closed, under a contact policy of
-- at most two offers per 30 days (less what the last 30 days already sent).
SELECT n.customer_id, n.rank, CAST(n.offer_id AS BIGINT) AS offer_id, o.name AS offer_name,
       n.channel, n.uplift, n.margin, n.cost, n.expected_value
FROM next_best_offer('offer_candidates', 3, 2) n
JOIN stg_offers o ON o.offer_id = CAST(n.offer_id AS BIGINT)
