-- batchsql golden SQL: last_run, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
SELECT
  "run_id",
  "spec",
  "spec_path",
  "target",
  "user_name",
  "host",
  "status",
  "started_at",
  "finished_at",
  "selected",
  "submitted",
  "batches_submitted",
  "batches_collected",
  "succeeded",
  "failed",
  "given_up",
  "input_tokens",
  "output_tokens",
  "cost_usd",
  "realtime_cost_usd",
  "error",
  "shared",
  "reused",
  "saved_usd",
  "est_cost_usd",
  "max_cost_usd",
  "over_budget"
FROM "analytics"."_batchsql_runs"
WHERE
  "spec" = ? AND (
    "batches_submitted" > 0 OR "reused" > 0
  )
ORDER BY
  "started_at" DESC NULLS LAST
LIMIT 1;
