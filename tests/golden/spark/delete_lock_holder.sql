-- batchsql golden SQL: delete_lock_holder, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
DELETE FROM `analytics`.`_batchsql_locks`
WHERE
  `spec` = ? AND `run_id` = ?;
