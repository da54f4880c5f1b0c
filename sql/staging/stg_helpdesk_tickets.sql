-- Helpdesk tickets: requester fields as typed (trimmed), CSAT on its 1-5 scale.
SELECT ticket_id, requester_email, requester_name, category, created_at, resolution_hours, csat
FROM (
  SELECT trim(ticket_id)                    AS ticket_id,
         nullif(trim(requester_email), '')  AS requester_email,
         nullif(trim(requester_name), '')   AS requester_name,
         lower(trim(category))              AS category,
         CAST(created_at AS TIMESTAMP)      AS created_at,
         CAST(resolution_hours AS DOUBLE)   AS resolution_hours,
         CAST(csat AS INT)                  AS csat,
         row_number() OVER (PARTITION BY trim(ticket_id) ORDER BY created_at DESC) AS rn
  FROM helpdesk_tickets
  WHERE ticket_id IS NOT NULL
)
WHERE rn = 1
