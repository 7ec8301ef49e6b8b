-- batchsql golden SQL: create_stage, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
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
