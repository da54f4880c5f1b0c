-- Preferred channel: the offers sent in the last 180 days, which the channel model is judged on.
SELECT * EXCLUDE (snapshot, customer_id) FROM channel_features WHERE snapshot = 'holdout'
