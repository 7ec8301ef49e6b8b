-- batchsql golden SQL: create_inputs, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
CREATE TABLE "analytics"."_batchsql_ticket_labels_input" AS
SELECT
  "Region",
  "Order ID",
  MD5(
    'sig' || CASE
      WHEN "body" IS NULL
      THEN '~'
      ELSE CAST(LENGTH(CAST("body" AS TEXT)) AS TEXT) || ':' || CAST("body" AS TEXT)
    END || CASE
      WHEN "subject" IS NULL
      THEN '~'
      ELSE CAST(LENGTH(CAST("subject" AS TEXT)) AS TEXT) || ':' || CAST("subject" AS TEXT)
    END
  ) AS "_input"
FROM (
  SELECT
    *
  FROM "raw"."Tickets"
) AS "_batchsql_source";
