-- batchsql golden SQL: tokens_in_flight, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
SELECT
  COALESCE(SUM(`est_input_tokens`), 0)
FROM `analytics`.`_batchsql_batches`
WHERE
  `model` = ? AND `status` IN ('intent', 'submitted');
