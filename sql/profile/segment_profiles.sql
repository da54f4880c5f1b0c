-- What each k-means value segment is: its size and the mean of each feature it was built on.
SELECT s.value_segment, count(*) AS customers,
       round(avg(f.recency_days), 1) AS recency_days, round(avg(f.frequency), 2) AS frequency,
       round(avg(f.monetary), 2) AS monetary, round(avg(f.tenure_days), 1) AS tenure_days,
       round(avg(f.web_events_90d), 1) AS web_events_90d,
       round(avg(f.email_open_rate), 3) AS email_open_rate, round(avg(f.tickets), 2) AS tickets,
       round(avg(f.distress_index), 1) AS distress_index
FROM customer_segments s JOIN customer_features f ON f.customer_id = s.customer_id
GROUP BY s.value_segment
