-- batchsql golden SQL: create_requests, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE TABLE IF NOT EXISTS "analytics"."_batchsql_ticket_labels_requests" (
  "Region" TEXT,
  "Order ID" BIGINT,
  "_batch_uuid" TEXT,
  "_custom_id" TEXT,
  "_fingerprint" TEXT,
  "_attempt" INT,
  "_created_at" TIMESTAMP,
  "_primary" BOOLEAN
);
