-- batchsql golden SQL: answer_history, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
SELECT
  COUNT(`_output_tokens`),
  AVG(`_output_tokens`)
FROM `analytics`.`ticket_labels`
WHERE
  `_status` = 'succeeded' AND `_dedup` IS NULL;
