-- batchsql golden SQL: answer_history, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
SELECT
  COUNT("_output_tokens"),
  AVG("_output_tokens")
FROM "analytics"."ticket_labels"
WHERE
  "_status" = 'succeeded' AND "_dedup" IS NULL;
