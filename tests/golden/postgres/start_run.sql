-- batchsql golden SQL: start_run, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
INSERT INTO "analytics"."_batchsql_runs" (
  "run_id",
  "spec",
  "status",
  "started_at"
)
VALUES
  (%s, %s, %s, %s);
