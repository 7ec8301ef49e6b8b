-- batchsql golden SQL: run_spend, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
SELECT
  SUM("cost_usd"),
  SUM(CASE WHEN "status" IN ('intent', 'submitted') THEN 1 ELSE 0 END)
FROM "analytics"."_batchsql_batches"
WHERE
  "run_id" = %s;
