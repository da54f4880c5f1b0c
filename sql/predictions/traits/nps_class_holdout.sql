-- Future NPS class (promoter, passive or detractor: their next answer):
-- the rows it is judged on: active customers 90 days before the end, labelled by the 90
-- days after, which training never saw.
SELECT * EXCLUDE (snapshot, next_category, cross_sell, upsell) FROM trait_features
WHERE snapshot = 'holdout' AND nps_class IS NOT NULL
