-- The churn model of the sample: gradient-boosted trees trained on the customers active 180
-- days before the data's end (did they go quiet in the next 90 days?), judged on those active
-- 90 days before the end, whose 90 days it never saw (models/churn.json). This table holds
-- the metrics (AUC, log loss, top-decile lift, calibration by decile) and feature importance.
SELECT * FROM train_classifier('churn',
  'churn_training', 'churned', 'customer_id', 'churn_holdout')
