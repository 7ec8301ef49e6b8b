-- batchsql golden SQL: source_columns, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
SELECT
  "Region",
  "Order ID",
  "subject",
  "body"
FROM (
  SELECT
    *
  FROM "raw"."Tickets"
) AS "_batchsql_source";
