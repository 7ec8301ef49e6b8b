-- batchsql golden SQL: run_spend, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  SUM("cost_usd"),
  SUM(CASE WHEN "status" IN ('intent', 'submitted') THEN 1 ELSE 0 END)
FROM "analytics"."_batchsql_batches"
WHERE
  "run_id" = ?;
