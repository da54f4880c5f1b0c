-- The channel model (models/channel.json): the probability that a customer opens an offer sent
-- on a channel, so that the channels can be ranked per customer (channel_scores).
SELECT * FROM train_classifier('channel',
  'channel_training', 'opened', 'decision_id', 'channel_holdout')
