-- batchsql golden SQL: update_batch, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
UPDATE "analytics"."_batchsql_batches" SET "status" = ?, "provider_batch_id" = ?
WHERE
  "batch_uuid" = ?;
