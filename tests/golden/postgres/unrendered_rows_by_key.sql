-- batchsql golden SQL: unrendered_rows_by_key, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
SELECT
  "s"."Region",
  "s"."Order ID",
  "s"."body",
  "s"."subject",
  MD5(
    'sig' || CASE
      WHEN "s"."body" IS NULL
      THEN '~'
      ELSE CAST(LENGTH(CAST("s"."body" AS TEXT)) AS TEXT) || ':' || CAST("s"."body" AS TEXT)
    END || CASE
      WHEN "s"."subject" IS NULL
      THEN '~'
      ELSE CAST(LENGTH(CAST("s"."subject" AS TEXT)) AS TEXT) || ':' || CAST("s"."subject" AS TEXT)
    END
  ) AS "_input"
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
