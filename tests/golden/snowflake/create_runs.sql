-- batchsql golden SQL: create_runs, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
CREATE TABLE IF NOT EXISTS "analytics"."_batchsql_runs" (
  "run_id" VARCHAR,
  "spec" VARCHAR,
  "spec_path" VARCHAR,
  "target" VARCHAR,
  "user_name" VARCHAR,
  "host" VARCHAR,
  "status" VARCHAR,
  "started_at" TIMESTAMPNTZ,
  "finished_at" TIMESTAMPNTZ,
  "selected" BIGINT,
  "submitted" BIGINT,
  "batches_submitted" BIGINT,
  "batches_collected" BIGINT,
  "succeeded" BIGINT,
  "failed" BIGINT,
  "given_up" BIGINT,
  "input_tokens" BIGINT,
  "output_tokens" BIGINT,
  "cost_usd" DOUBLE,
  "realtime_cost_usd" DOUBLE,
  "error" VARCHAR,
  "shared" BIGINT,
  "reused" BIGINT,
  "saved_usd" DOUBLE,
  "est_cost_usd" DOUBLE,
  "max_cost_usd" DOUBLE,
  "over_budget" BIGINT
);
