-- batchsql golden SQL: tokens_in_flight, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
SELECT
  COALESCE(SUM("est_input_tokens"), 0)
FROM "analytics"."_batchsql_batches"
WHERE
  "model" = %s AND "status" IN ('intent', 'submitted');
