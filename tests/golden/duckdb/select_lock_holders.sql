-- batchsql golden SQL: select_lock_holders, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  "spec",
  "run_id",
  "user_name",
  "host",
  "pid",
  "acquired_at",
  "heartbeat_at"
FROM "analytics"."_batchsql_locks"
WHERE
  "spec" = ?
ORDER BY
  "acquired_at",
  "run_id";
