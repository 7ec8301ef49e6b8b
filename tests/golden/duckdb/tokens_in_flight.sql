-- batchsql golden SQL: tokens_in_flight, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  COALESCE(SUM("est_input_tokens"), 0)
FROM "analytics"."_batchsql_batches"
WHERE
  "model" = ? AND "status" IN ('intent', 'submitted');
