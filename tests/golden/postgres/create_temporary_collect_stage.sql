-- batchsql golden SQL: create_temporary_collect_stage, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
CREATE TEMPORARY TABLE IF NOT EXISTS "analytics"."_batchsql_ticket_labels_collect" (
  "label" VARCHAR,
  "priority" VARCHAR,
  "summary" VARCHAR,
  "confidence" DOUBLE PRECISION,
  "urgent" BOOLEAN,
  "tags" VARCHAR[],
  "customer" JSONB,
  "_custom_id" VARCHAR,
  "_status" VARCHAR,
  "_error" VARCHAR,
  "_model" VARCHAR,
  "_input_tokens" BIGINT,
  "_output_tokens" BIGINT,
  "_cost_usd" DOUBLE PRECISION,
  "_raw" VARCHAR
);
