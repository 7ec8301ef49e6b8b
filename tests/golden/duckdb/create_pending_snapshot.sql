-- batchsql golden SQL: create_pending_snapshot, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
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
