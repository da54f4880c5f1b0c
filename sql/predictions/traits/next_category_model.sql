-- The next purchase category (models/next_category.json): one gradient-boosted model per
-- category against the rest, trained on the customers who ordered in the 90 days after the
-- training snapshot, judged on those of the holdout's 90 days (accuracy, top-2 accuracy, log
-- loss, macro AUC and, to beat, the accuracy of always answering the most common category).
SELECT * FROM train_multiclass('next_category',
  'next_category_training', 'next_category', 'customer_id', 'next_category_holdout')
