-- Subscriptions with their state derived from the dates.
SELECT subscription_id, account_id, plan, trial_start, trial_end, converted_at, cancelled_at,
       monthly_amount,
       CASE
         WHEN cancelled_at IS NOT NULL THEN 'cancelled'
         WHEN converted_at IS NOT NULL THEN 'paid'
         WHEN trial_end IS NOT NULL AND trial_end < TIMESTAMP '2025-07-01 00:00:00' THEN 'trial_lapsed'
         ELSE 'trial'
       END AS state
FROM (
  SELECT subscription_id, account_id, lower(trim(plan)) AS plan, trial_start, trial_end,
         converted_at, cancelled_at, CAST(monthly_amount AS DOUBLE) AS monthly_amount,
         row_number() OVER (PARTITION BY subscription_id ORDER BY trial_start DESC) AS rn
  FROM subscriptions
  WHERE subscription_id IS NOT NULL
)
WHERE rn = 1
