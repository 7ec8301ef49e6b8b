-- batchsql golden SQL: create_batches, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
CREATE TABLE IF NOT EXISTS "analytics"."_batchsql_batches" (
  "batch_uuid" VARCHAR,
  "spec" VARCHAR,
  "output_table" VARCHAR,
  "run_id" VARCHAR,
  "chunk" INT,
  "provider" VARCHAR,
  "endpoint" VARCHAR,
  "model" VARCHAR,
  "status" VARCHAR,
  "provider_batch_id" VARCHAR,
  "provider_status" VARCHAR,
  "input_file_id" VARCHAR,
  "output_file_id" VARCHAR,
  "error_file_id" VARCHAR,
  "request_count" BIGINT,
  "input_bytes" BIGINT,
  "est_input_tokens" BIGINT,
  "succeeded" BIGINT,
  "failed" BIGINT,
  "input_tokens" BIGINT,
  "output_tokens" BIGINT,
  "cost_usd" DOUBLE PRECISION,
  "error" VARCHAR,
  "created_at" TIMESTAMP,
  "submitted_at" TIMESTAMP,
  "collected_at" TIMESTAMP,
  "unknown_lines" BIGINT,
  "duplicates" VARCHAR,
  "sole_create" BOOLEAN
);
