-- batchsql golden SQL: batch_figures, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
SELECT
  "_status",
  COUNT(*),
  SUM("_input_tokens"),
  SUM("_output_tokens"),
  SUM("_cost_usd"),
  COUNT("_dedup"),
  SUM("_saved_usd")
FROM "analytics"."ticket_labels"
WHERE
  "_batch_id" = ? AND "_custom_id" LIKE ?
GROUP BY
  "_status";
