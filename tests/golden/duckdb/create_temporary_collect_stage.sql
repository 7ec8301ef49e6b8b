-- batchsql golden SQL: create_temporary_collect_stage, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE TEMPORARY TABLE IF NOT EXISTS "analytics"."_batchsql_ticket_labels_collect" (
  "label" TEXT,
  "priority" TEXT,
  "summary" TEXT,
  "confidence" DOUBLE,
  "urgent" BOOLEAN,
  "tags" TEXT[],
  "customer" STRUCT("language" TEXT, "address" STRUCT("city" TEXT, "zip" TEXT), "orders" BIGINT[]),
  "_custom_id" TEXT,
  "_status" TEXT,
  "_error" TEXT,
  "_model" TEXT,
  "_input_tokens" BIGINT,
  "_output_tokens" BIGINT,
  "_cost_usd" DOUBLE,
  "_raw" TEXT
);
