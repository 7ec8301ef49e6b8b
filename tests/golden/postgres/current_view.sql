-- batchsql golden SQL: current_view, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
CREATE OR REPLACE VIEW "analytics"."ticket_labels_current" AS
SELECT
  "Region",
  "Order ID",
  "label",
  "priority",
  "summary",
  "confidence",
  "urgent",
  "tags",
  "customer",
  "_status",
  "_error",
  "_attempt",
  "_fingerprint",
  "_batch_id",
  "_custom_id",
  "_model",
  "_input_tokens",
  "_output_tokens",
  "_cost_usd",
  "_raw",
  "_run_id",
  "_submitted_at",
  "_collected_at",
  "_dedup",
  "_saved_usd"
FROM (
  SELECT
    "Region",
    "Order ID",
    "label",
    "priority",
    "summary",
    "confidence",
    "urgent",
    "tags",
    "customer",
    "_status",
    "_error",
    "_attempt",
    "_fingerprint",
    "_batch_id",
    "_custom_id",
    "_model",
    "_input_tokens",
    "_output_tokens",
    "_cost_usd",
    "_raw",
    "_run_id",
    "_submitted_at",
    "_collected_at",
    "_dedup",
    "_saved_usd",
    ROW_NUMBER() OVER (
      PARTITION BY "Region", "Order ID"
      ORDER BY "_collected_at" DESC NULLS LAST, "_custom_id" DESC NULLS LAST
    ) AS "_batchsql_rank"
  FROM "analytics"."ticket_labels"
  WHERE
    "_status" = 'succeeded'
) AS "t"
WHERE
  "_batchsql_rank" = 1;
