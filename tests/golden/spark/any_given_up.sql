-- batchsql golden SQL: any_given_up, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
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
