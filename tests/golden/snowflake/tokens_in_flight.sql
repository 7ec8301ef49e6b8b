-- batchsql golden SQL: tokens_in_flight, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
SELECT
  COALESCE(SUM("est_input_tokens"), 0)
FROM "analytics"."_batchsql_batches"
WHERE
  "model" = ? AND "status" IN ('intent', 'submitted');
