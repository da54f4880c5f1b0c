-- Upsell propensity (models/upsell.json): will the customer spend at least half as much again
-- in the next 90 days as in the last 90?
SELECT * FROM train_classifier('upsell',
  'upsell_training', 'upsell', 'customer_id', 'upsell_holdout')
