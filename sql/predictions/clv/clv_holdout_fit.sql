-- The same model fitted only on what was known 90 days before the data's end
-- (models/clv_holdout.json), to be judged on the 90 days it did not see (clv_evaluation).
SELECT * FROM fit_clv_model('clv_holdout', 'clv_holdout_inputs')
