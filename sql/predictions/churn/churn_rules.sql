-- One shallow decision tree over the same training rows, as rules a person can read: who
-- goes quiet, and how often.
SELECT * FROM decision_tree_rules('churn_training', 'churned', 'customer_id', 3)
