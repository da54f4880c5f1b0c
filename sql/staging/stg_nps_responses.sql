-- NPS answers: the JSON carries timestamps as text; typed here.
SELECT response_id, email, score, comment, responded_at
FROM (
  SELECT response_id,
         nullif(trim(email), '')           AS email,
         CAST(score AS INT)                AS score,
         nullif(trim(comment), '')         AS comment,
         CAST(responded_at AS TIMESTAMP)   AS responded_at,
         row_number() OVER (PARTITION BY response_id ORDER BY responded_at DESC) AS rn
  FROM nps_responses
  WHERE response_id IS NOT NULL
)
WHERE rn = 1
