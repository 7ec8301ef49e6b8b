-- batchsql golden SQL: create_json_table, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
CREATE TABLE IF NOT EXISTS "analytics"."ticket_answers" (
  "Region" VARCHAR,
  "Order ID" BIGINT,
  "answer" VARIANT,
  "_status" VARCHAR,
  "_error" VARCHAR,
  "_attempt" INT,
  "_fingerprint" VARCHAR,
  "_batch_id" VARCHAR,
  "_custom_id" VARCHAR,
  "_model" VARCHAR,
  "_input_tokens" BIGINT,
  "_output_tokens" BIGINT,
  "_cost_usd" DOUBLE,
  "_raw" VARCHAR,
  "_run_id" VARCHAR,
  "_submitted_at" TIMESTAMPNTZ,
  "_collected_at" TIMESTAMPNTZ,
  "_dedup" VARCHAR,
  "_saved_usd" DOUBLE
);
