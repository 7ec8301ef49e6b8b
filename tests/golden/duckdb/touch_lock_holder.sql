-- batchsql golden SQL: touch_lock_holder, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
UPDATE "analytics"."_batchsql_locks" SET "heartbeat_at" = ?
WHERE
  "spec" = ? AND "run_id" = ?;
