-- CRM contacts, typed and trimmed; duplicate exports of one contact id keep the newest row.
SELECT contact_id, first_name, last_name, email, phone, city, state, postcode, birth_date,
       pet_types, created_at
FROM (
  SELECT trim(contact_id)                  AS contact_id,
         nullif(trim(first_name), '')      AS first_name,
         nullif(trim(last_name), '')       AS last_name,
         nullif(trim(email), '')           AS email,
         nullif(trim(phone), '')           AS phone,
         nullif(trim(city), '')            AS city,
         upper(nullif(trim(state), ''))    AS state,
         nullif(trim(postcode), '')        AS postcode,
         birth_date,
         nullif(trim(pet_types), '')       AS pet_types,
         created_at,
         row_number() OVER (PARTITION BY trim(contact_id) ORDER BY created_at DESC) AS rn
  FROM crm_contacts
  WHERE contact_id IS NOT NULL
)
WHERE rn = 1
