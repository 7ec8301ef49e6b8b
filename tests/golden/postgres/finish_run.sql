-- batchsql golden SQL: finish_run, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
UPDATE "analytics"."_batchsql_runs" SET "status" = %s, "selected" = %s, "finished_at" = %s
WHERE
  "run_id" = %s;
