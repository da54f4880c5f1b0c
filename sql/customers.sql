-- The golden record: one row per customer, each field taken from the most trusted source that
-- has it (CRM, then shop, then helpdesk, then survey and e-mail).
WITH records AS (
  SELECT g.customer_id, r.*,
         CASE r.source WHEN 'crm_contacts' THEN 1 WHEN 'shop_accounts' THEN 2
                       WHEN 'helpdesk_tickets' THEN 3 ELSE 4 END AS priority
  FROM identity_graph g
  JOIN identity_records r ON r.source = g.source AND r.record_id = g.source_record_id
)
SELECT customer_id,
       first_value(first_name_std ORDER BY priority) FILTER (WHERE first_name_std IS NOT NULL) AS first_name,
       first_value(last_name_std ORDER BY priority) FILTER (WHERE last_name_std IS NOT NULL) AS last_name,
       first_value(email_std ORDER BY priority) FILTER (WHERE email_std IS NOT NULL) AS email,
       first_value(phone_std ORDER BY priority) FILTER (WHERE phone_std IS NOT NULL) AS phone,
       first_value(postcode_std ORDER BY priority) FILTER (WHERE postcode_std IS NOT NULL) AS postcode,
       max(birth_date) AS birth_date,
       count(*) AS records,
       count(DISTINCT source) AS sources,
       array_agg(DISTINCT account_id) FILTER (WHERE account_id IS NOT NULL AND source = 'shop_accounts') AS account_ids
FROM records
GROUP BY customer_id
