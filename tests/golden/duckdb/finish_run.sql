-- batchsql golden SQL: finish_run, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
UPDATE "analytics"."_batchsql_runs" SET "status" = ?, "selected" = ?, "finished_at" = ?
WHERE
  "run_id" = ?;
