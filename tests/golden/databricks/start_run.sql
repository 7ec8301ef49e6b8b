-- batchsql golden SQL: start_run, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
INSERT INTO `analytics`.`_batchsql_runs` (
  `run_id`,
  `spec`,
  `status`,
  `started_at`
)
VALUES
  (?, ?, ?, ?);
