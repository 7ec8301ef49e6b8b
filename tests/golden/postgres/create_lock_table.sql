-- batchsql golden SQL: create_lock_table, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
CREATE TABLE IF NOT EXISTS "analytics"."_batchsql_locks" (
  "spec" VARCHAR NOT NULL,
  "run_id" VARCHAR,
  "user_name" VARCHAR,
  "host" VARCHAR,
  "pid" BIGINT,
  "acquired_at" TIMESTAMP,
  "heartbeat_at" TIMESTAMP,
  PRIMARY KEY ("spec")
);
