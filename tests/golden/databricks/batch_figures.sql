-- batchsql golden SQL: batch_figures, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
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
