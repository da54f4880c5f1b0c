-- Every customer with a shop account on every channel, as of the data's end: the probability
-- they open an offer sent there (channel_model) and the channel's rank for them (1 = the
-- channel they answer best).
WITH scored AS (
  SELECT customer_id, channel,
         predict_probability('channel', channel, age_years, sends_on_channel, channel_open_rate,
           sends_before, open_rate, emails_opened_90d, emails_clicked_90d, web_90d, orders_365d,
           days_since_order) AS open_probability
  FROM channel_features WHERE snapshot = 'score'
)
SELECT customer_id, channel, open_probability,
       CAST(rank() OVER (PARTITION BY customer_id ORDER BY open_probability DESC, channel) AS INT) AS rank
FROM scored
