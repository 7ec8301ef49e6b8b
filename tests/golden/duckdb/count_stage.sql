-- batchsql golden SQL: count_stage, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  COUNT(*)
FROM "analytics"."_batchsql_ticket_labels_stage";
