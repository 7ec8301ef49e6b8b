-- batchsql golden SQL: select_lock_holders, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
SELECT
  `spec`,
  `run_id`,
  `user_name`,
  `host`,
  `pid`,
  `acquired_at`,
  `heartbeat_at`
FROM `analytics`.`_batchsql_locks`
WHERE
  `spec` = ?
ORDER BY
  `acquired_at`,
  `run_id`;
