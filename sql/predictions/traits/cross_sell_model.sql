-- Cross-sell propensity (models/cross_sell.json): will the customer buy a category they never
-- bought before in the next 90 days? AUC, log loss, top-decile lift and calibration.
SELECT * FROM train_classifier('cross_sell',
  'cross_sell_training', 'cross_sell', 'customer_id', 'cross_sell_holdout')
