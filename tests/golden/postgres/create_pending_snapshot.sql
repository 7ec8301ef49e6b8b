-- batchsql golden SQL: create_pending_snapshot, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
CREATE TABLE "analytics"."_batchsql_ticket_labels_pending" AS
SELECT
  "s".*,
  "p"."_attempt"
FROM "analytics"."_batchsql_ticket_labels_stage" AS "s"
JOIN (
  SELECT
    *
  FROM "analytics"."_batchsql_ticket_labels_pkeys"
) AS "p"
  ON "p"."Region" = "s"."Region" AND "p"."Order ID" = "s"."Order ID";
