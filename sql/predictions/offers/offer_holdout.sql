-- The offer decisions of the last 180 days, which the offer model never sees in training.
SELECT * EXCLUDE (snapshot, customer_id, offer_id) FROM offer_features WHERE snapshot = 'holdout'
