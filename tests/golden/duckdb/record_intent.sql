-- batchsql golden SQL: record_intent, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
INSERT INTO "analytics"."_batchsql_batches" (
  "batch_uuid",
  "spec",
  "model",
  "status",
  "created_at"
)
VALUES
  (?, ?, ?, ?, ?);
