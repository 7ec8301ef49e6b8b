-- batchsql golden SQL: unrendered_rows_by_key, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
SELECT
  "s"."Region",
  "s"."Order ID",
  "s"."body",
  "s"."subject",
  MD5(
    CONCAT(
      'sig',
      CASE
        WHEN "s"."body" IS NULL
        THEN '~'
        ELSE CONCAT(
          CAST(LENGTH(CAST("s"."body" AS VARCHAR)) AS VARCHAR),
          ':',
          CAST("s"."body" AS VARCHAR)
        )
      END,
      CASE
        WHEN "s"."subject" IS NULL
        THEN '~'
        ELSE CONCAT(
          CAST(LENGTH(CAST("s"."subject" AS VARCHAR)) AS VARCHAR),
          ':',
          CAST("s"."subject" AS VARCHAR)
        )
      END
    )
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
