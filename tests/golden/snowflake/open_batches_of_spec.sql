-- batchsql golden SQL: open_batches_of_spec, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
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
  "spec" = ? AND "status" IN ('intent', 'submitted')
ORDER BY
  "created_at",
  "chunk";
