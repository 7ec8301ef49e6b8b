-- batchsql golden SQL: duplicate_keys, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
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
