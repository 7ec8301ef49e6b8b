-- batchsql golden SQL: touch_lock_holder, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
UPDATE "analytics"."_batchsql_locks" SET "heartbeat_at" = %s
WHERE
  "spec" = %s AND "run_id" = %s;
