-- batchsql golden SQL: create_lock_table, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
-- No PRIMARY KEY: Spark has no table constraints; the lock reads its rows back, which keeps two
-- runs apart.
CREATE TABLE IF NOT EXISTS `analytics`.`_batchsql_locks` (
  `spec` STRING NOT NULL,
  `run_id` STRING,
  `user_name` STRING,
  `host` STRING,
  `pid` BIGINT,
  `acquired_at` TIMESTAMP,
  `heartbeat_at` TIMESTAMP
);
