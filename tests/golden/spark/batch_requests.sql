-- batchsql golden SQL: batch_requests, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
SELECT
  COUNT(*),
  COUNT(CASE WHEN COALESCE(`r`.`_primary`, TRUE) THEN 1 END)
FROM `analytics`.`_batchsql_ticket_labels_requests` AS `r`
WHERE
  `r`.`_batch_uuid` = ?;
