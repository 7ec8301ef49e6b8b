-- batchsql golden SQL: duplicate_keys, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
SELECT
  `Region`,
  `Order ID`,
  COUNT(*) AS `n`
FROM `analytics`.`_batchsql_ticket_labels_input`
GROUP BY
  `Region`,
  `Order ID`
HAVING
  COUNT(*) > 1 OR COUNT(`Region`) < COUNT(*) OR COUNT(`Order ID`) < COUNT(*)
LIMIT 5;
