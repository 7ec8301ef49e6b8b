-- batchsql golden SQL: create_collect_stage, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
CREATE TABLE IF NOT EXISTS "analytics"."_batchsql_ticket_labels_collect" (
  "label" VARCHAR,
  "priority" VARCHAR,
  "summary" VARCHAR,
  "confidence" DOUBLE,
  "urgent" BOOLEAN,
  "tags" ARRAY,
  "customer" OBJECT,
  "_custom_id" VARCHAR,
  "_status" VARCHAR,
  "_error" VARCHAR,
  "_model" VARCHAR,
  "_input_tokens" BIGINT,
  "_output_tokens" BIGINT,
  "_cost_usd" DOUBLE,
  "_raw" VARCHAR
);
