-- Each customer's orders summarised for the lifetime-value models, as of the data's latest
-- event: repeat-purchase days (frequency), days from the first to the last order (recency),
-- days since the first order (t) and the mean value of the repeat days. Customers who never
-- ordered have no row. The holdout columns summarise the same orders as of 90 days earlier
-- and count the order days after that cut-off, to evaluate the model on what it did not see.
WITH t AS (SELECT as_of, as_of - INTERVAL '90 days' AS cut_off FROM as_of),
orders AS (
  SELECT e.customer_id, e.at, e.value, t.as_of, t.cut_off
  FROM customer_events e CROSS JOIN t
  WHERE e.event_type = 'order'
),
summaries AS (
  SELECT customer_id,
         clv_summary(at, value, as_of) AS now,
         clv_summary(at, value, cut_off) AS before,
         count(DISTINCT CAST(at AS DATE)) FILTER (WHERE at > cut_off) AS order_days_after_cut_off
  FROM orders
  GROUP BY customer_id
)
SELECT customer_id,
       now['frequency'] AS frequency, now['recency'] AS recency, now['t'] AS t,
       now['monetary_value'] AS monetary_value,
       before['frequency'] AS holdout_frequency, before['recency'] AS holdout_recency,
       before['t'] AS holdout_t, before['monetary_value'] AS holdout_monetary_value,
       order_days_after_cut_off
FROM summaries
