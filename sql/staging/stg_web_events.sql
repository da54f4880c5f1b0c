-- Web analytics events; exact duplicates (double-fired tags) removed.
SELECT DISTINCT cookie_id, account_id, lower(event_type) AS event_type, category, event_at
FROM web_events
WHERE cookie_id IS NOT NULL AND event_at IS NOT NULL
