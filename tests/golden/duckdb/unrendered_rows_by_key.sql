-- batchsql golden SQL: unrendered_rows_by_key, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  "s"."Region",
  "s"."Order ID",
  "s"."body",
  "s"."subject",
  CAST(HASH('sig', "s"."body", "s"."subject") AS TEXT) AS "_input"
FROM (
  SELECT
    *
  FROM "raw"."Tickets"
) AS "s"
WHERE
  EXISTS(
    SELECT
      1
    FROM "analytics"."_batchsql_ticket_labels_stage_unrendered" AS "u"
    WHERE
      "u"."Region" = "s"."Region" AND "u"."Order ID" = "s"."Order ID"
  );
