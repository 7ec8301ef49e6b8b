-- batchsql golden SQL: batch_requests, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
SELECT
  COUNT(*),
  COUNT(CASE WHEN COALESCE("r"."_primary", TRUE) THEN 1 END)
FROM "analytics"."_batchsql_ticket_labels_requests" AS "r"
WHERE
  "r"."_batch_uuid" = %s;
