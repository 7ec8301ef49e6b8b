-- batchsql golden SQL: insert_lock, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
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
  (%s, %s, %s, %s, %s, %s, %s);
