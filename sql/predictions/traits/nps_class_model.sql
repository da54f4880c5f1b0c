-- The class of a customer's next NPS answer (models/nps_class.json): promoter, passive or
-- detractor, for the customers who answered in the 90 days after the snapshot.
SELECT * FROM train_multiclass('nps_class',
  'nps_class_training', 'nps_class', 'customer_id', 'nps_class_holdout')
