-- batchsql golden SQL: select_lock_holders, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
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
  "spec" = %s
ORDER BY
  "acquired_at",
  "run_id";
