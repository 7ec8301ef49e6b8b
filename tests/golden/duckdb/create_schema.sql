-- batchsql golden SQL: create_schema, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE SCHEMA IF NOT EXISTS "analytics";
