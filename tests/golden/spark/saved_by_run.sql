-- batchsql golden SQL: saved_by_run, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
SELECT
  SUM(`_saved_usd`)
FROM `analytics`.`ticket_labels`
WHERE
  `_run_id` = ?;
