-- batchsql golden SQL: duplicate_keys, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
SELECT
  `Region`,
  `Order ID`,
  COUNT(*) AS `n`
FROM `analytics`.`_batchsql_ticket_labels_input`
GROUP BY
  `Region`,
  `Order ID`
HAVING
  COUNT(*) > 1 OR MAX(CAST(`Region` IS NULL OR `Order ID` IS NULL AS INT)) = 1
LIMIT 5;
