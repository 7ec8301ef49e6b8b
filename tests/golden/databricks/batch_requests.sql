-- batchsql golden SQL: batch_requests, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
SELECT
  COUNT(*),
  COUNT(CASE WHEN COALESCE(`r`.`_primary`, TRUE) THEN 1 END)
FROM `analytics`.`_batchsql_ticket_labels_requests` AS `r`
WHERE
  `r`.`_batch_uuid` = ?;
