-- Candidate links between identity records, from blocking rules that are ordinary joins:
-- the same mailbox, the same phone with a similar surname, the same account, or the same
-- sounding surname and postcode with a similar first name. The identity graph is still built
-- from these rules: the probabilistic model (identity_pairs) does not beat them yet on the
-- sample, whose households share e-mail, phone, surname and postcode.
WITH r AS (
  SELECT * FROM identity_records
),
email_links AS (
  SELECT a.record_key AS left_key, b.record_key AS right_key, 'email' AS rule
  FROM r a JOIN r b ON a.email_std = b.email_std AND a.record_key < b.record_key
  -- a shared family mailbox does not make two named people one
  WHERE a.first_name_std IS NULL OR b.first_name_std IS NULL
     OR jaro_winkler(a.first_name_std, b.first_name_std) >= 0.85
     OR damerau_levenshtein(a.first_name_std, b.first_name_std) <= 1
),
phone_links AS (
  SELECT a.record_key, b.record_key, 'phone'
  FROM r a JOIN r b ON a.phone_std = b.phone_std AND a.record_key < b.record_key
  -- a household shares a landline: the first names must agree too (a typo in a short name
  -- is one edit; a swapped first and last name counts as agreeing)
  WHERE jaro_winkler(a.first_name_std, b.first_name_std) >= 0.85
     OR damerau_levenshtein(a.first_name_std, b.first_name_std) <= 1
     OR (jaro_winkler(a.first_name_std, b.last_name_std) >= 0.92
         AND jaro_winkler(a.last_name_std, b.first_name_std) >= 0.92)
),
account_links AS (
  SELECT a.record_key, b.record_key, 'account'
  FROM r a JOIN r b ON a.account_id = b.account_id AND a.record_key < b.record_key
),
name_links AS (
  SELECT a.record_key, b.record_key, 'name_postcode'
  FROM r a JOIN r b
    ON a.last_name_sound = b.last_name_sound AND a.postcode_std = b.postcode_std
   AND a.record_key < b.record_key
  WHERE jaro_winkler(a.first_name_std, b.first_name_std) >= 0.92
    AND jaro_winkler(a.last_name_std, b.last_name_std) >= 0.92
),
swapped_links AS (
  -- a first and last name typed the wrong way round, at the same postcode
  SELECT a.record_key, b.record_key, 'swapped_name'
  FROM r a JOIN r b
    ON a.first_name_std = b.last_name_std AND a.last_name_std = b.first_name_std
   AND a.postcode_std = b.postcode_std AND a.record_key < b.record_key
)
SELECT left_key, right_key, rule FROM email_links
UNION ALL SELECT * FROM phone_links
UNION ALL SELECT * FROM account_links
UNION ALL SELECT * FROM name_links
UNION ALL SELECT * FROM swapped_links
