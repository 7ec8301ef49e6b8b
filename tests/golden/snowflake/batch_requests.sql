-- batchsql golden SQL: batch_requests, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
SELECT
  COUNT(*),
  COUNT(CASE WHEN COALESCE("r"."_primary", TRUE) THEN 1 END)
FROM "analytics"."_batchsql_ticket_labels_requests" AS "r"
WHERE
  "r"."_batch_uuid" = ?;
