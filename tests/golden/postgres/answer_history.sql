-- batchsql golden SQL: answer_history, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
SELECT
  COUNT("_output_tokens"),
  AVG("_output_tokens")
FROM "analytics"."ticket_labels"
WHERE
  "_status" = 'succeeded' AND "_dedup" IS NULL;
