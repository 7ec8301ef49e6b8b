-- batchsql golden SQL: unknown_lines, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
SELECT
  COUNT(*)
FROM "analytics"."_batchsql_ticket_labels_collect" AS "c"
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM "analytics"."_batchsql_ticket_labels_requests" AS "r"
    WHERE
      "r"."_custom_id" = "c"."_custom_id" AND "r"."_batch_uuid" = ?
  );
