-- batchsql golden SQL: finish_run, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
UPDATE "analytics"."_batchsql_runs" SET "status" = ?, "selected" = ?, "finished_at" = ?
WHERE
  "run_id" = ?;
