-- batchsql golden SQL: create_stage, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
CREATE TABLE IF NOT EXISTS "analytics"."_batchsql_ticket_labels_stage" (
  "Region" VARCHAR,
  "Order ID" BIGINT,
  "_input" VARCHAR,
  "_fingerprint" VARCHAR,
  "_est_tokens" BIGINT,
  "_error" VARCHAR,
  "_spool" VARCHAR,
  "_seq" BIGINT
);
