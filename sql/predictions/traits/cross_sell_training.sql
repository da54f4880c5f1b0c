-- Cross-sell propensity (will they buy a category new to them?):
-- the rows it learns from: active customers 180 days before the end, labelled by the 90
-- days after.
SELECT * EXCLUDE (snapshot, next_category, upsell, nps_class) FROM trait_features
WHERE snapshot = 'train' AND cross_sell IS NOT NULL
