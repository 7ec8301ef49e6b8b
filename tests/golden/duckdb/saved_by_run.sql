-- batchsql golden SQL: saved_by_run, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  SUM("_saved_usd")
FROM "analytics"."ticket_labels"
WHERE
  "_run_id" = ?;
