-- batchsql golden SQL: delete_lock_holder, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
DELETE FROM `analytics`.`_batchsql_locks`
WHERE
  `spec` = ? AND `run_id` = ?;
