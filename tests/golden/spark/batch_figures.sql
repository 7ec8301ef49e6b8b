-- batchsql golden SQL: batch_figures, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
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
