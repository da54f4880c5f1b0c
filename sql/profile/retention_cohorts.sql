-- Monthly retention: customers grouped by the month of their first order or subscription
-- trial (the cohort); for each of the 12 months after it, the share of the cohort active
-- (an order, or a paid subscription running that month). Months after the end of the data
-- are left out. Built with retention(): one flag per month after the cohort month.
WITH t AS (SELECT as_of, date_part('year', as_of) * 12 + date_part('month', as_of) - 1 AS as_of_month FROM as_of),
months AS (
  -- Months numbered year * 12 + month - 1.
  SELECT customer_id, date_part('year', at) * 12 + date_part('month', at) - 1 AS month
  FROM customer_events WHERE event_type IN ('order', 'trial_start')
  UNION ALL
  -- Every month a paid subscription ran: from payment to cancellation or the end of the data.
  SELECT p.customer_id, unnest(range(
           CAST(date_part('year', p.at) * 12 + date_part('month', p.at) - 1 AS BIGINT),
           CAST(date_part('year', coalesce(c.at, t.as_of)) * 12 + date_part('month', coalesce(c.at, t.as_of)) AS BIGINT)))
  FROM customer_events p CROSS JOIN t
  LEFT JOIN (SELECT customer_id, max(at) AS at FROM customer_events
             WHERE event_type = 'subscription_cancelled' GROUP BY customer_id) c
    ON c.customer_id = p.customer_id AND c.at >= p.at
  WHERE p.event_type = 'subscription_paid'
),
first_months AS (
  SELECT customer_id, min(date_part('year', at) * 12 + date_part('month', at) - 1) AS cohort
  FROM customer_events WHERE event_type IN ('order', 'trial_start')
  GROUP BY customer_id
),
flags AS (
  SELECT f.customer_id, f.cohort,
         retention(m.month = f.cohort, m.month = f.cohort + 1, m.month = f.cohort + 2,
                   m.month = f.cohort + 3, m.month = f.cohort + 4, m.month = f.cohort + 5,
                   m.month = f.cohort + 6, m.month = f.cohort + 7, m.month = f.cohort + 8,
                   m.month = f.cohort + 9, m.month = f.cohort + 10, m.month = f.cohort + 11,
                   m.month = f.cohort + 12) AS active
  FROM first_months f JOIN months m ON m.customer_id = f.customer_id
  GROUP BY f.customer_id, f.cohort
),
per_month AS (
  SELECT cohort, months_after, count(*) AS cohort_customers, sum(active[months_after + 1]) AS active_customers
  FROM flags CROSS JOIN (SELECT unnest(range(0, 13)) AS months_after)
  GROUP BY cohort, months_after
)
SELECT make_date(CAST(cohort / 12 AS INT), CAST(cohort % 12 + 1 AS INT), 1) AS cohort_month,
       months_after, cohort_customers, active_customers,
       CAST(active_customers AS DOUBLE) / cohort_customers AS share_active
FROM per_month CROSS JOIN t
WHERE cohort + months_after <= t.as_of_month
