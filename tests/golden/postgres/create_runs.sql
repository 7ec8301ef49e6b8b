-- batchsql golden SQL: create_runs, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
CREATE TABLE IF NOT EXISTS "analytics"."_batchsql_runs" (
  "run_id" VARCHAR,
  "spec" VARCHAR,
  "spec_path" VARCHAR,
  "target" VARCHAR,
  "user_name" VARCHAR,
  "host" VARCHAR,
  "status" VARCHAR,
  "started_at" TIMESTAMP,
  "finished_at" TIMESTAMP,
  "selected" BIGINT,
  "submitted" BIGINT,
  "batches_submitted" BIGINT,
  "batches_collected" BIGINT,
  "succeeded" BIGINT,
  "failed" BIGINT,
  "given_up" BIGINT,
  "input_tokens" BIGINT,
  "output_tokens" BIGINT,
  "cost_usd" DOUBLE PRECISION,
  "realtime_cost_usd" DOUBLE PRECISION,
  "error" VARCHAR,
  "shared" BIGINT,
  "reused" BIGINT,
  "saved_usd" DOUBLE PRECISION,
  "est_cost_usd" DOUBLE PRECISION,
  "max_cost_usd" DOUBLE PRECISION,
  "over_budget" BIGINT
);
