-- batchsql golden SQL: batch_requests, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
SELECT
  COUNT(*),
  COUNT(CASE WHEN COALESCE(`r`.`_primary`, TRUE) THEN 1 END)
FROM `analytics`.`_batchsql_ticket_labels_requests` AS `r`
WHERE
  `r`.`_batch_uuid` = ?;
