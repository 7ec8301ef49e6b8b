-- batchsql golden SQL: run_spend, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
SELECT
  SUM("cost_usd"),
  SUM(CASE WHEN "status" IN ('intent', 'submitted') THEN 1 ELSE 0 END)
FROM "analytics"."_batchsql_batches"
WHERE
  "run_id" = ?;
