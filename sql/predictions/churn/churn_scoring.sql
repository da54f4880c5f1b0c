-- The churn features of every active customer as of the data's end: what the churn model
-- scores (customer_predictions).
SELECT * EXCLUDE (snapshot, churned) FROM churn_features WHERE snapshot = 'score'
