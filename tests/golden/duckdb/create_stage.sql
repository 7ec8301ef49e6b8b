-- batchsql golden SQL: create_stage, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE TABLE IF NOT EXISTS "analytics"."_batchsql_ticket_labels_stage" (
  "Region" TEXT,
  "Order ID" BIGINT,
  "_input" TEXT,
  "_fingerprint" TEXT,
  "_est_tokens" BIGINT,
  "_error" TEXT,
  "_spool" TEXT,
  "_seq" BIGINT
);
