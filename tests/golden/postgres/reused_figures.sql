-- batchsql golden SQL: reused_figures, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
SELECT
  COUNT(*),
  SUM("_saved_usd")
FROM "analytics"."ticket_labels"
WHERE
  "_run_id" = %s AND "_dedup" = 'reused';
