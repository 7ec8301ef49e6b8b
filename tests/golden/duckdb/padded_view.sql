-- batchsql golden SQL: padded_view, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE OR REPLACE VIEW "analytics"."_batchsql_plan_ticket_labels" AS
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
  CAST(NULL AS TEXT) AS "_dedup",
  CAST(NULL AS DOUBLE) AS "_saved_usd"
FROM "analytics"."ticket_labels";
