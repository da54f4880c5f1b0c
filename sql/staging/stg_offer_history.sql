-- Offer decisions with the catalogue's category; control rows were held out (no offer sent).
-- opened: whether the customer opened the offer's message (NULL for the control group).
SELECT h.decision_id, h.account_id, h.offer_id, o.category AS offer_category, h.decided_at,
       h.treatment_group, h.channel, coalesce(h.converted, false) AS converted, h.converted_at,
       h.opened
FROM offer_history h
LEFT JOIN stg_offers o ON o.offer_id = h.offer_id
WHERE h.decision_id IS NOT NULL
