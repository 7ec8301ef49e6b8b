-- batchsql golden SQL: open_batches, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  "batch_uuid",
  "spec",
  "output_table",
  "run_id",
  "chunk",
  "provider",
  "endpoint",
  "model",
  "status",
  "provider_batch_id",
  "provider_status",
  "input_file_id",
  "output_file_id",
  "error_file_id",
  "request_count",
  "input_bytes",
  "est_input_tokens",
  "succeeded",
  "failed",
  "input_tokens",
  "output_tokens",
  "cost_usd",
  "error",
  "created_at",
  "submitted_at",
  "collected_at",
  "unknown_lines",
  "duplicates",
  "sole_create"
FROM "analytics"."_batchsql_batches"
WHERE
  "output_table" = ? AND "status" IN ('intent', 'submitted')
ORDER BY
  "created_at",
  "chunk";
