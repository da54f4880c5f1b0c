-- The labelled rows the churn model learns from (features 180 days before the end).
SELECT * EXCLUDE (snapshot) FROM churn_features WHERE snapshot = 'train'
