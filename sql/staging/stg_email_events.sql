-- E-mail events keyed by the lowercased address; exact duplicates removed.
SELECT DISTINCT lower(trim(email)) AS email,
       lower(event_type)           AS event_type,
       campaign,
       event_at
FROM email_events
WHERE email IS NOT NULL AND event_at IS NOT NULL
