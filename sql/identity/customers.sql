-- The golden record: one row per customer, each field chosen by a survivorship rule.
--   names:       source_priority — the most trusted source that has one (CRM, then shop, then
--                helpdesk), the most recently seen among records of one source;
--   e-mail:      source_priority over the systems people type it in, most recent first;
--   phone:       most_recent — people change numbers, the latest one seen is current;
--   postal code: most_recent — people move;
--   birth date:  most_frequent — the date most records agree on beats a single typo.
-- The distinct sources and shop accounts are counted on their own (a DISTINCT aggregate keeps
-- a set per customer in memory; a GROUP BY of the pairs spills) and joined back.
WITH records AS (
  SELECT g.customer_id, g.customer_since, r.*,
         CASE r.source WHEN 'crm_contacts' THEN 1 WHEN 'shop_accounts' THEN 2
                       WHEN 'helpdesk_tickets' THEN 3 ELSE 4 END AS priority
  FROM identity_graph g
  JOIN identity_records r ON r.source = g.source AND r.record_id = g.source_record_id
),
golden AS (
  SELECT customer_id,
         source_priority(first_name_std, priority, seen_at) AS first_name,
         source_priority(last_name_std, priority, seen_at)  AS last_name,
         source_priority(email_std, priority, seen_at)      AS email,
         most_recent(phone_std, seen_at)                    AS phone,
         most_recent(postcode_std, seen_at)                 AS postcode,
         most_frequent(birth_date)                          AS birth_date,
         min(customer_since)                                AS customer_since,
         min(seen_at)                                       AS first_seen_at,
         max(seen_at)                                       AS last_seen_at,
         count(*)                                           AS records
  FROM records
  GROUP BY customer_id
),
sources AS (
  SELECT customer_id, count(*) AS sources
  FROM (SELECT DISTINCT customer_id, source FROM records)
  GROUP BY customer_id
),
accounts AS (
  SELECT customer_id, array_agg(account_id ORDER BY account_id) AS account_ids
  FROM (SELECT DISTINCT customer_id, account_id FROM records
        WHERE account_id IS NOT NULL AND source = 'shop_accounts')
  GROUP BY customer_id
)
SELECT g.*, s.sources, a.account_ids
FROM golden g
JOIN sources s ON s.customer_id = g.customer_id
LEFT JOIN accounts a ON a.customer_id = g.customer_id
