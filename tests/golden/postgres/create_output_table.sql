-- batchsql golden SQL: create_output_table, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
CREATE TABLE IF NOT EXISTS "analytics"."ticket_labels" (
  "Region" VARCHAR,
  "Order ID" BIGINT,
  "label" VARCHAR,
  "priority" VARCHAR,
  "summary" VARCHAR,
  "confidence" DOUBLE PRECISION,
  "urgent" BOOLEAN,
  "tags" VARCHAR[],
  "customer" JSONB,
  "_status" VARCHAR,
  "_error" VARCHAR,
  "_attempt" INT,
  "_fingerprint" VARCHAR,
  "_batch_id" VARCHAR,
  "_custom_id" VARCHAR,
  "_model" VARCHAR,
  "_input_tokens" BIGINT,
  "_output_tokens" BIGINT,
  "_cost_usd" DOUBLE PRECISION,
  "_raw" VARCHAR,
  "_run_id" VARCHAR,
  "_submitted_at" TIMESTAMP,
  "_collected_at" TIMESTAMP,
  "_dedup" VARCHAR,
  "_saved_usd" DOUBLE PRECISION
);
