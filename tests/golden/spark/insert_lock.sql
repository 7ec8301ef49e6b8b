-- batchsql golden SQL: insert_lock, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
INSERT INTO `analytics`.`_batchsql_locks` (
  `spec`,
  `run_id`,
  `user_name`,
  `host`,
  `pid`,
  `acquired_at`,
  `heartbeat_at`
)
VALUES
  (?, ?, ?, ?, ?, ?, ?);
