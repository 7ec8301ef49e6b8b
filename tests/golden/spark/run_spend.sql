-- batchsql golden SQL: run_spend, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
SELECT
  SUM(`cost_usd`),
  SUM(CASE WHEN `status` IN ('intent', 'submitted') THEN 1 ELSE 0 END)
FROM `analytics`.`_batchsql_batches`
WHERE
  `run_id` = ?;
