-- batchsql golden SQL: start_run, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
INSERT INTO "analytics"."_batchsql_runs" (
  "run_id",
  "spec",
  "status",
  "started_at"
)
VALUES
  (?, ?, ?, ?);
