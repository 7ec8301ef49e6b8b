-- batchsql golden SQL: answer_history, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
SELECT
  COUNT(`_output_tokens`),
  AVG(`_output_tokens`)
FROM `analytics`.`ticket_labels`
WHERE
  `_status` = 'succeeded' AND `_dedup` IS NULL;
