-- batchsql golden SQL: batch_figures, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
SELECT
  `_status`,
  COUNT(*),
  SUM(`_input_tokens`),
  SUM(`_output_tokens`),
  SUM(`_cost_usd`),
  COUNT(`_dedup`),
  SUM(`_saved_usd`)
FROM `analytics`.`ticket_labels`
WHERE
  `_batch_id` = ? AND `_custom_id` LIKE ?
GROUP BY
  `_status`;
