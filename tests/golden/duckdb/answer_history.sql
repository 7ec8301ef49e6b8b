-- batchsql golden SQL: answer_history, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  COUNT("_output_tokens"),
  AVG("_output_tokens")
FROM "analytics"."ticket_labels"
WHERE
  "_status" = 'succeeded' AND "_dedup" IS NULL;
