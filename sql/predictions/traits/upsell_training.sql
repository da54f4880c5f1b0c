-- Upsell propensity (will they spend half as much again as in the last 90 days?):
-- the rows it learns from: active customers 180 days before the end, labelled by the 90
-- days after.
SELECT * EXCLUDE (snapshot, next_category, cross_sell, nps_class) FROM trait_features
WHERE snapshot = 'train' AND upsell IS NOT NULL
