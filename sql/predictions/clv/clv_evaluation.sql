-- The holdout check of the lifetime-value model: purchases predicted for the 90 days after
-- the cut-off against the order days that came, overall and by how often customers had bought
-- (the calibration plot of Fader, Hardie and Lee), plus the mean absolute error per customer.
WITH scored AS (
  SELECT CASE WHEN frequency >= 7 THEN '7+' ELSE CAST(frequency AS VARCHAR) END AS frequency_group,
         expected_purchases('clv_holdout', 90, frequency, recency, t) AS predicted,
         CAST(order_days_after_cut_off AS DOUBLE) AS actual
  FROM clv_holdout_inputs
)
SELECT frequency_group, count(*) AS customers,
       round(avg(predicted), 3) AS predicted_per_customer,
       round(avg(actual), 3) AS actual_per_customer,
       round(avg(abs(predicted - actual)), 3) AS mean_absolute_error
FROM scored GROUP BY frequency_group
UNION ALL
SELECT 'all', count(*), round(avg(predicted), 3), round(avg(actual), 3),
       round(avg(abs(predicted - actual)), 3)
FROM scored
