-- The golden record: one row per customer, each field chosen by a survivorship rule.
--   names:       source_priority — the most trusted source that has one (CRM, then shop, then
--                helpdesk), the most recently seen among records of one source;
--   e-mail:      source_priority over the systems people type it in, most recent first;
--   phone:       most_recent — people change numbers, the latest one seen is current;
--   postal code: most_recent — people move;
--   birth date:  most_frequent — the date most records agree on beats a single typo.
WITH records AS (
  SELECT g.customer_id, g.customer_since, r.*,
         CASE r.source WHEN 'crm_contacts' THEN 1 WHEN 'shop_accounts' THEN 2
                       WHEN 'helpdesk_tickets' THEN 3 ELSE 4 END AS priority
  FROM identity_graph g
  JOIN identity_records r ON r.source = g.source AND r.record_id = g.source_record_id
)
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
       count(*)                                           AS records,
       count(DISTINCT source)                             AS sources,
       array_agg(DISTINCT account_id) FILTER (WHERE account_id IS NOT NULL AND source = 'shop_accounts') AS account_ids
FROM records
GROUP BY customer_id
