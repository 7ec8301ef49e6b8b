-- batchsql golden SQL: run_spend, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
SELECT
  SUM(`cost_usd`),
  SUM(CASE WHEN `status` IN ('intent', 'submitted') THEN 1 ELSE 0 END)
FROM `analytics`.`_batchsql_batches`
WHERE
  `run_id` = ?;
