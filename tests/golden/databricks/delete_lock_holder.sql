-- batchsql golden SQL: delete_lock_holder, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
DELETE FROM `analytics`.`_batchsql_locks`
WHERE
  `spec` = ? AND `run_id` = ?;
