-- batchsql golden SQL: describe, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  *
FROM (
  SELECT
    *
  FROM "raw"."Tickets"
) AS "q"
LIMIT 0;
