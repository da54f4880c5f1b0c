-- The offer catalogue.
SELECT offer_id, trim(name) AS name, lower(kind) AS kind, lower(category) AS category,
       CAST(discount_pct AS DOUBLE) AS discount_pct, CAST(cost AS DOUBLE) AS cost,
       CAST(margin AS DOUBLE) AS margin
FROM offers
WHERE offer_id IS NOT NULL
