-- The offer model of the sample (models/offers.json): two gradient-boosted models over the same
-- features, one learning who buys from the offer's category when sent the offer and one who buys
-- anyway (the randomised 20% control group), so that their difference is the uplift. Judged on
-- the decisions of the last 180 days: the Qini area, the observed uplift of the 10% with the
-- highest predicted uplift and per decile, and each response model's AUC.
SELECT * FROM train_uplift('offers',
  'offer_training', 'converted', 'treated', 'decision_id', 'offer_holdout')
