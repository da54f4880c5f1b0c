-- Customers among the records that carry a name: the connected components of the links
-- between named records. The component label is the smallest record key of the component.
WITH components AS (
  SELECT unnest(connected_components(left_key, right_key)) AS c
  FROM (SELECT left_key, right_key FROM identity_links WHERE left_named AND right_named
        UNION ALL
        SELECT record_key, CAST(NULL AS VARCHAR) FROM identity_records
        WHERE first_name_std IS NOT NULL OR last_name_std IS NOT NULL)
)
SELECT c['node'] AS record_key, c['component'] AS component FROM components
