-- batchsql golden SQL: create_lock_table, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
-- Snowflake records the PRIMARY KEY but does not enforce it; the lock reads its rows back, which
-- keeps two runs apart.
CREATE TABLE IF NOT EXISTS "analytics"."_batchsql_locks" (
  "spec" VARCHAR NOT NULL,
  "run_id" VARCHAR,
  "user_name" VARCHAR,
  "host" VARCHAR,
  "pid" BIGINT,
  "acquired_at" TIMESTAMPNTZ,
  "heartbeat_at" TIMESTAMPNTZ,
  PRIMARY KEY ("spec")
);
