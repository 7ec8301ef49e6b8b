-- batchsql golden SQL: create_json_table, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE TABLE IF NOT EXISTS "analytics"."ticket_answers" (
  "Region" TEXT,
  "Order ID" BIGINT,
  "answer" JSON,
  "_status" TEXT,
  "_error" TEXT,
  "_attempt" INT,
  "_fingerprint" TEXT,
  "_batch_id" TEXT,
  "_custom_id" TEXT,
  "_model" TEXT,
  "_input_tokens" BIGINT,
  "_output_tokens" BIGINT,
  "_cost_usd" DOUBLE,
  "_raw" TEXT,
  "_run_id" TEXT,
  "_submitted_at" TIMESTAMP,
  "_collected_at" TIMESTAMP,
  "_dedup" TEXT,
  "_saved_usd" DOUBLE
);
