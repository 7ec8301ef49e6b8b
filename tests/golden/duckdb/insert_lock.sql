-- batchsql golden SQL: insert_lock, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
INSERT INTO "analytics"."_batchsql_locks" (
  "spec",
  "run_id",
  "user_name",
  "host",
  "pid",
  "acquired_at",
  "heartbeat_at"
)
VALUES
  (?, ?, ?, ?, ?, ?, ?);
