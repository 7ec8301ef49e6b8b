-- batchsql golden SQL: tokens_in_flight, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
SELECT
  COALESCE(SUM(`est_input_tokens`), 0)
FROM `analytics`.`_batchsql_batches`
WHERE
  `model` = ? AND `status` IN ('intent', 'submitted');
