-- batchsql golden SQL: current_catalog, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  CURRENT_DATABASE();
