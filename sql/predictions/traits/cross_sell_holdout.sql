-- Cross-sell propensity (will they buy a category new to them?):
-- the rows it is judged on: active customers 90 days before the end, labelled by the 90
-- days after, which training never saw.
SELECT * EXCLUDE (snapshot, next_category, upsell, nps_class) FROM trait_features
WHERE snapshot = 'holdout' AND cross_sell IS NOT NULL
