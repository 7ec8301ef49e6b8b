-- batchsql golden SQL: insert_missing, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
INSERT INTO `analytics`.`ticket_labels` (
  `Region`,
  `Order ID`,
  `_status`,
  `_error`,
  `_attempt`,
  `_fingerprint`,
  `_batch_id`,
  `_custom_id`,
  `_model`,
  `_run_id`,
  `_submitted_at`,
  `_collected_at`,
  `_dedup`
)
SELECT
  `r`.`Region`,
  `r`.`Order ID`,
  ?,
  ?,
  `r`.`_attempt`,
  `r`.`_fingerprint`,
  ?,
  `r`.`_custom_id`,
  ?,
  ?,
  ?,
  ?,
  CASE WHEN COALESCE(`r`.`_primary`, TRUE) THEN NULL ELSE 'shared' END
FROM `analytics`.`_batchsql_ticket_labels_requests` AS `r`
WHERE
  `r`.`_batch_uuid` = ?
  AND NOT EXISTS(
    SELECT
      1
    FROM `analytics`.`_batchsql_ticket_labels_collect` AS `c`
    WHERE
      `c`.`_custom_id` = `r`.`_custom_id`
  );
