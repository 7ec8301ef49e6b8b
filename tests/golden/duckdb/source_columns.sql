-- batchsql golden SQL: source_columns, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
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
