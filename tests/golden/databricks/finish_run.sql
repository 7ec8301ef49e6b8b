-- batchsql golden SQL: finish_run, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
UPDATE `analytics`.`_batchsql_runs` SET `status` = ?, `selected` = ?, `finished_at` = ?
WHERE
  `run_id` = ?;
