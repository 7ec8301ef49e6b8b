-- batchsql golden SQL: reused_figures, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  COUNT(*),
  SUM("_saved_usd")
FROM "analytics"."ticket_labels"
WHERE
  "_run_id" = ? AND "_dedup" = 'reused';
