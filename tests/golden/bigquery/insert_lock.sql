-- batchsql golden SQL: insert_lock, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
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
