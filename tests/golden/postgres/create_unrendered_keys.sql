-- batchsql golden SQL: create_unrendered_keys, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
CREATE TABLE "analytics"."_batchsql_ticket_labels_stage_unrendered" AS
SELECT
  "i"."Region",
  "i"."Order ID"
FROM "analytics"."_batchsql_ticket_labels_input" AS "i"
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM "analytics"."_batchsql_ticket_labels_stage" AS "t"
    WHERE
      "t"."Region" = "i"."Region" AND "t"."Order ID" = "i"."Order ID"
  );
