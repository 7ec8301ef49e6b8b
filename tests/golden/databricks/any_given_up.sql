-- batchsql golden SQL: any_given_up, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
SELECT
  `Region`,
  `Order ID`,
  `_fingerprint`
FROM `analytics`.`ticket_labels`
WHERE
  `_status` IN ('failed', 'invalid_output', 'missing')
GROUP BY
  `Region`,
  `Order ID`,
  `_fingerprint`
HAVING
  COUNT(*) >= 3
LIMIT 1;
