-- batchsql golden SQL: create_inputs, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
CREATE TABLE "analytics"."_batchsql_ticket_labels_input" AS
SELECT
  "Region",
  "Order ID",
  MD5(
    CONCAT(
      'sig',
      CASE
        WHEN "body" IS NULL
        THEN '~'
        ELSE CONCAT(CAST(LENGTH(CAST("body" AS VARCHAR)) AS VARCHAR), ':', CAST("body" AS VARCHAR))
      END,
      CASE
        WHEN "subject" IS NULL
        THEN '~'
        ELSE CONCAT(CAST(LENGTH(CAST("subject" AS VARCHAR)) AS VARCHAR), ':', CAST("subject" AS VARCHAR))
      END
    )
  ) AS "_input"
FROM (
  SELECT
    *
  FROM "raw"."Tickets"
) AS "_batchsql_source";
