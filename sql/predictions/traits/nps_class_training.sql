-- Future NPS class (promoter, passive or detractor: their next answer):
-- the rows it learns from: active customers 180 days before the end, labelled by the 90
-- days after.
SELECT * EXCLUDE (snapshot, next_category, cross_sell, upsell) FROM trait_features
WHERE snapshot = 'train' AND nps_class IS NOT NULL
