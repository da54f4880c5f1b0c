-- Upsell propensity (will they spend half as much again as in the last 90 days?):
-- the rows it is judged on: active customers 90 days before the end, labelled by the 90
-- days after, which training never saw.
SELECT * EXCLUDE (snapshot, next_category, cross_sell, nps_class) FROM trait_features
WHERE snapshot = 'holdout' AND upsell IS NOT NULL
