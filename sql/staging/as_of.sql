-- The moment the data describes: the latest event of any source. Features are computed "as of"
-- this time (not the wall clock), so a rerun on the same data gives the same features.
SELECT max(at) AS as_of
FROM (SELECT max(ordered_at) AS at FROM stg_orders
      UNION ALL SELECT max(event_at) FROM stg_web_events
      UNION ALL SELECT max(event_at) FROM stg_email_events
      UNION ALL SELECT max(created_at) FROM stg_helpdesk_tickets
      UNION ALL SELECT max(responded_at) FROM stg_nps_responses)
