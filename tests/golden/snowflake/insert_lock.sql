-- batchsql golden SQL: insert_lock, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
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
