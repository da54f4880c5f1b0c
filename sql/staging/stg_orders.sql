-- Orders with money as numbers, the net amount after discount, one row per order id.
SELECT order_id, account_id, ordered_at, category, amount, discount,
       amount - coalesce(discount, 0) AS net_amount
FROM (
  SELECT order_id,
         account_id,
         ordered_at,
         lower(trim(category))            AS category,
         CAST(amount AS DOUBLE)           AS amount,
         CAST(coalesce(discount, 0) AS DOUBLE) AS discount,
         row_number() OVER (PARTITION BY order_id ORDER BY ordered_at) AS rn
  FROM orders
  WHERE order_id IS NOT NULL
)
WHERE rn = 1
