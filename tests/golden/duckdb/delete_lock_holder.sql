-- batchsql golden SQL: delete_lock_holder, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
DELETE FROM "analytics"."_batchsql_locks"
WHERE
  "spec" = ? AND "run_id" = ?;
