-- batchsql golden SQL: duplicate_keys, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
SELECT
  "Region",
  "Order ID",
  COUNT(*) AS "n"
FROM "analytics"."_batchsql_ticket_labels_input"
GROUP BY
  "Region",
  "Order ID"
HAVING
  COUNT(*) > 1 OR COUNT("Region") < COUNT(*) OR COUNT("Order ID") < COUNT(*)
LIMIT 5;
