-- batchsql golden SQL: create_lock_table, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
-- BigQuery accepts only an unenforced PRIMARY KEY; the lock reads its rows back, which keeps two
-- runs apart.
CREATE TABLE IF NOT EXISTS `analytics`.`_batchsql_locks` (
  `spec` STRING NOT NULL,
  `run_id` STRING,
  `user_name` STRING,
  `host` STRING,
  `pid` INT64,
  `acquired_at` TIMESTAMP,
  `heartbeat_at` TIMESTAMP,
  PRIMARY KEY (`spec`) NOT ENFORCED
);
