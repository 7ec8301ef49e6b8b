-- batchsql golden SQL: any_given_up, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
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
