-- Shop accounts: the full name stays in one field (as the shop keeps it), text trimmed.
SELECT account_id, full_name, email, phone, postcode, created_at
FROM (
  SELECT account_id,
         nullif(trim(full_name), '') AS full_name,
         nullif(trim(email), '')     AS email,
         nullif(trim(phone), '')     AS phone,
         nullif(trim(postcode), '')  AS postcode,
         created_at,
         row_number() OVER (PARTITION BY account_id ORDER BY created_at DESC) AS rn
  FROM shop_accounts
  WHERE account_id IS NOT NULL
)
WHERE rn = 1
