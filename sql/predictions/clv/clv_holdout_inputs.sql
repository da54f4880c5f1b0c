-- The summaries as of the holdout cut-off (90 days before the data's end) of the customers
-- who had ordered by then: what the holdout model is fitted on.
SELECT customer_id, holdout_frequency AS frequency, holdout_recency AS recency, holdout_t AS t,
       holdout_monetary_value AS monetary_value, order_days_after_cut_off
FROM clv_inputs
WHERE holdout_t IS NOT NULL
