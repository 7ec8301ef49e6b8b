-- batchsql golden SQL: run_spend, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
SELECT
  SUM(`cost_usd`),
  SUM(CASE WHEN `status` IN ('intent', 'submitted') THEN 1 ELSE 0 END)
FROM `analytics`.`_batchsql_batches`
WHERE
  `run_id` = ?;
