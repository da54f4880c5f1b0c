-- The offer decisions the offer model learns from (all but the last 180 days).
SELECT * EXCLUDE (snapshot, customer_id, offer_id) FROM offer_features WHERE snapshot = 'train'
