-- batchsql golden SQL: create_lock_table, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE TABLE IF NOT EXISTS "analytics"."_batchsql_locks" (
  "spec" TEXT NOT NULL,
  "run_id" TEXT,
  "user_name" TEXT,
  "host" TEXT,
  "pid" BIGINT,
  "acquired_at" TIMESTAMP,
  "heartbeat_at" TIMESTAMP,
  PRIMARY KEY ("spec")
);
