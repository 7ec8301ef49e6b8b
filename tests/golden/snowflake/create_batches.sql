-- batchsql golden SQL: create_batches, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
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
  "cost_usd" DOUBLE,
  "error" VARCHAR,
  "created_at" TIMESTAMPNTZ,
  "submitted_at" TIMESTAMPNTZ,
  "collected_at" TIMESTAMPNTZ,
  "unknown_lines" BIGINT,
  "duplicates" VARCHAR,
  "sole_create" BOOLEAN
);
