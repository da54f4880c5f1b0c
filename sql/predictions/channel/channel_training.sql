-- Preferred channel: the offers sent before the last 180 days, which the channel model learns from.
SELECT * EXCLUDE (snapshot, customer_id) FROM channel_features WHERE snapshot = 'train'
