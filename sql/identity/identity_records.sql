-- One row per source record that carries identity, in one standardised shape: the input of
-- blocking, scoring and clustering. Every system keeps its own record id.
WITH shop AS (
  SELECT account_id, email, phone, postcode, created_at,
         -- The shop keeps "First Last" or "Last, First" in one field.
         CASE WHEN full_name LIKE '%,%'
              THEN trim(split_part(full_name, ',', 2)) || ' ' || trim(split_part(full_name, ',', 1))
              ELSE full_name END AS full_name
  FROM stg_shop_accounts
),
records AS (
  SELECT 'crm_contacts' AS source, contact_id AS record_id,
         first_name, last_name, first_name || ' ' || last_name AS full_name,
         email, phone, postcode, birth_date, CAST(NULL AS BIGINT) AS account_id,
         created_at AS seen_at
  FROM stg_crm_contacts
  UNION ALL
  SELECT 'shop_accounts', CAST(account_id AS VARCHAR),
         split_part(full_name, ' ', 1),
         nullif(substr(full_name, length(split_part(full_name, ' ', 1)) + 2), ''),
         full_name, email, phone, postcode, CAST(NULL AS DATE), account_id, created_at
  FROM shop
  UNION ALL
  SELECT 'helpdesk_tickets', ticket_id,
         split_part(requester_name, ' ', 1),
         nullif(substr(requester_name, length(split_part(requester_name, ' ', 1)) + 2), ''),
         requester_name, requester_email, NULL, NULL, CAST(NULL AS DATE), CAST(NULL AS BIGINT),
         created_at
  FROM stg_helpdesk_tickets
  UNION ALL
  SELECT 'nps_responses', response_id, NULL, NULL, NULL, email, NULL, NULL,
         CAST(NULL AS DATE), CAST(NULL AS BIGINT), responded_at
  FROM stg_nps_responses
  UNION ALL
  SELECT 'email_events', address, NULL, NULL, NULL, address AS email, NULL, NULL,
         CAST(NULL AS DATE), CAST(NULL AS BIGINT), last_event_at
  FROM (SELECT normalize_email(email) AS address, max(event_at) AS last_event_at
        FROM stg_email_events GROUP BY normalize_email(email))
  WHERE address IS NOT NULL
  UNION ALL
  -- A cookie is an identity record once it was seen logged in to an account.
  SELECT 'web_events', cookie_id, NULL, NULL, NULL, NULL, NULL, NULL, CAST(NULL AS DATE),
         max(account_id), max(event_at)
  FROM stg_web_events
  GROUP BY cookie_id
  HAVING count(DISTINCT account_id) = 1
)
SELECT source || ':' || record_id    AS record_key,
       source,
       record_id,
       nickname_canonical(first_name)  AS first_name_std,
       normalize_name(last_name)       AS last_name_std,
       normalize_name(full_name)       AS full_name_std,
       double_metaphone(last_name)     AS last_name_sound,
       normalize_email(email)          AS email_std,
       normalize_phone(phone)          AS phone_std,
       normalize_postcode(postcode)    AS postcode_std,
       birth_date,
       account_id,
       -- When the source last saw this record: survivorship picks the most recent values.
       CAST(seen_at AS TIMESTAMP)      AS seen_at
FROM records
