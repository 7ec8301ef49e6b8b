-- batchsql golden SQL: source_table, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  *
FROM "raw"."Tickets";
