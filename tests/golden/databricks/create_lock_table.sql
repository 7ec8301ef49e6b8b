-- batchsql golden SQL: create_lock_table, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
-- No PRIMARY KEY: Databricks accepts one only on Unity Catalog tables and never enforces it; the
-- lock reads its rows back, which keeps two runs apart.
CREATE TABLE IF NOT EXISTS `analytics`.`_batchsql_locks` (
  `spec` STRING NOT NULL,
  `run_id` STRING,
  `user_name` STRING,
  `host` STRING,
  `pid` BIGINT,
  `acquired_at` TIMESTAMP,
  `heartbeat_at` TIMESTAMP
);
