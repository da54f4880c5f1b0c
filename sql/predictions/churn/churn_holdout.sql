-- The labelled rows the churn model is judged on (features 90 days before the end).
SELECT * EXCLUDE (snapshot) FROM churn_features WHERE snapshot = 'holdout'
