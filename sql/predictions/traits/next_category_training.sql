-- Next purchase category: the rows it learns from (active customers 180 days before the end,
-- labelled by the category of their first order in the 90 days after).
-- What they bought (shares of each category, the most frequent and the latest) and how much.
SELECT customer_id, next_category, orders, days_since_order, share_food, share_treats,
       share_toys, share_vitamins, share_accessories, share_grooming, top_category, last_category
FROM trait_features
WHERE snapshot = 'train' AND next_category IS NOT NULL
