-- batchsql golden SQL: any_given_up, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
SELECT
  "Region",
  "Order ID",
  "_fingerprint"
FROM "analytics"."ticket_labels"
WHERE
  "_status" IN ('failed', 'invalid_output', 'missing')
GROUP BY
  "Region",
  "Order ID",
  "_fingerprint"
HAVING
  COUNT(*) >= 3
LIMIT 1;
