-- batchsql golden SQL: insert_missing, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
INSERT INTO "analytics"."ticket_labels" (
  "Region",
  "Order ID",
  "_status",
  "_error",
  "_attempt",
  "_fingerprint",
  "_batch_id",
  "_custom_id",
  "_model",
  "_run_id",
  "_submitted_at",
  "_collected_at",
  "_dedup"
)
SELECT
  "r"."Region",
  "r"."Order ID",
  %s,
  %s,
  "r"."_attempt",
  "r"."_fingerprint",
  %s,
  "r"."_custom_id",
  %s,
  %s,
  %s,
  %s,
  CASE WHEN COALESCE("r"."_primary", TRUE) THEN NULL ELSE 'shared' END
FROM "analytics"."_batchsql_ticket_labels_requests" AS "r"
WHERE
  "r"."_batch_uuid" = %s
  AND NOT EXISTS(
    SELECT
      1
    FROM "analytics"."_batchsql_ticket_labels_collect" AS "c"
    WHERE
      "c"."_custom_id" = "r"."_custom_id"
  );
