-- Every fact of every system as one event stream per customer, attributed through
-- identity_graph: orders and subscriptions by shop account, web events by account or by the
-- cookie (so anonymous browsing before a login counts), e-mail events by address, tickets and
-- NPS answers by their record. Events of records no customer claims are left out. `value` is
-- the order amount, the monthly price of a paid subscription, the CSAT of a ticket or the NPS
-- score.
WITH ids AS (
  SELECT source, source_record_id, customer_id FROM identity_graph
),
accounts AS (SELECT source_record_id AS account, customer_id FROM ids WHERE source = 'shop_accounts'),
cookies AS (SELECT source_record_id AS cookie, customer_id FROM ids WHERE source = 'web_events'),
mailboxes AS (SELECT source_record_id AS address, customer_id FROM ids WHERE source = 'email_events')
SELECT a.customer_id, 'order' AS event_type, o.category, o.ordered_at AS at, o.net_amount AS value
FROM stg_orders o JOIN accounts a ON a.account = CAST(o.account_id AS VARCHAR)
UNION ALL
SELECT a.customer_id, 'trial_start', s.plan, s.trial_start, CAST(NULL AS DOUBLE)
FROM stg_subscriptions s JOIN accounts a ON a.account = CAST(s.account_id AS VARCHAR)
WHERE s.trial_start IS NOT NULL
UNION ALL
SELECT a.customer_id, 'subscription_paid', s.plan, s.converted_at, s.monthly_amount
FROM stg_subscriptions s JOIN accounts a ON a.account = CAST(s.account_id AS VARCHAR)
WHERE s.converted_at IS NOT NULL
UNION ALL
SELECT a.customer_id, 'subscription_cancelled', s.plan, s.cancelled_at, CAST(NULL AS DOUBLE)
FROM stg_subscriptions s JOIN accounts a ON a.account = CAST(s.account_id AS VARCHAR)
WHERE s.cancelled_at IS NOT NULL
UNION ALL
SELECT coalesce(a.customer_id, c.customer_id), w.event_type, w.category, w.event_at, CAST(NULL AS DOUBLE)
FROM stg_web_events w
LEFT JOIN accounts a ON a.account = CAST(w.account_id AS VARCHAR)
LEFT JOIN cookies c ON c.cookie = w.cookie_id
WHERE coalesce(a.customer_id, c.customer_id) IS NOT NULL
UNION ALL
SELECT m.customer_id, 'email_' || e.event_type, e.campaign, e.event_at, CAST(NULL AS DOUBLE)
FROM stg_email_events e JOIN mailboxes m ON m.address = normalize_email(e.email)
UNION ALL
SELECT i.customer_id, 'ticket', t.category, t.created_at, CAST(t.csat AS DOUBLE)
FROM stg_helpdesk_tickets t JOIN ids i ON i.source = 'helpdesk_tickets' AND i.source_record_id = t.ticket_id
UNION ALL
SELECT i.customer_id, 'nps', CAST(NULL AS VARCHAR), n.responded_at, CAST(n.score AS DOUBLE)
FROM stg_nps_responses n JOIN ids i ON i.source = 'nps_responses' AND i.source_record_id = n.response_id
