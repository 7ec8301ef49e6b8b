-- batchsql golden SQL: duplicate_keys, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
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
