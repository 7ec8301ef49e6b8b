-- batchsql golden SQL: any_given_up, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
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
