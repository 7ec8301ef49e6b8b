-- batchsql golden SQL: batch_requests, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  COUNT(*),
  COUNT(CASE WHEN COALESCE("r"."_primary", TRUE) THEN 1 END)
FROM "analytics"."_batchsql_ticket_labels_requests" AS "r"
WHERE
  "r"."_batch_uuid" = ?;
