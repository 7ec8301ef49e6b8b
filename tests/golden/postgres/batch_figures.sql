-- batchsql golden SQL: batch_figures, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
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
  "_batch_id" = %s AND "_custom_id" LIKE %s
GROUP BY
  "_status";
