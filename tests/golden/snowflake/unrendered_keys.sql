-- batchsql golden SQL: unrendered_keys, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
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
