-- Next purchase category: the rows it is judged on (active customers 90 days before the end,
-- labelled by the category of their first order in the 90 days after, which training never saw).
-- What they bought (shares of each category, the most frequent and the latest) and how much.
SELECT customer_id, next_category, orders, days_since_order, share_food, share_treats,
       share_toys, share_vitamins, share_accessories, share_grooming, top_category, last_category
FROM trait_features
WHERE snapshot = 'holdout' AND next_category IS NOT NULL
