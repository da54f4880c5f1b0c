-- Segments of every customer: the rule-based RFM segment, and a data-driven value segment
-- from k-means (5 segments, seed 42) over standardised behaviour features. segment_profiles
-- shows what each value segment is.
SELECT f.customer_id,
       coalesce(f.rfm_segment, 'No orders') AS rfm_segment,
       k.segment AS value_segment,
       k.distance AS value_segment_distance
FROM customer_features f
JOIN kmeans_segments('customer_features', 'customer_id', 5, 42,
       'recency_days', 'frequency', 'monetary', 'tenure_days', 'web_events_90d',
       'email_open_rate', 'tickets', 'distress_index') k
  ON k.key = f.customer_id
