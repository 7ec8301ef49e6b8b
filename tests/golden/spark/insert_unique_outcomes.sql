-- batchsql golden SQL: insert_unique_outcomes, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
INSERT INTO `analytics`.`ticket_labels` (
  `Region`,
  `Order ID`,
  `label`,
  `priority`,
  `summary`,
  `confidence`,
  `urgent`,
  `tags`,
  `customer`,
  `_status`,
  `_error`,
  `_attempt`,
  `_fingerprint`,
  `_batch_id`,
  `_custom_id`,
  `_model`,
  `_input_tokens`,
  `_output_tokens`,
  `_cost_usd`,
  `_raw`,
  `_run_id`,
  `_submitted_at`,
  `_collected_at`,
  `_dedup`,
  `_saved_usd`
)
SELECT
  `r`.`Region`,
  `r`.`Order ID`,
  `c`.`label`,
  `c`.`priority`,
  `c`.`summary`,
  `c`.`confidence`,
  `c`.`urgent`,
  `c`.`tags`,
  `c`.`customer`,
  `c`.`_status`,
  `c`.`_error`,
  `r`.`_attempt`,
  `r`.`_fingerprint`,
  ?,
  `r`.`_custom_id`,
  COALESCE(`c`.`_model`, ?),
  CASE WHEN COALESCE(`r`.`_primary`, TRUE) THEN `c`.`_input_tokens` ELSE 0 END,
  CASE WHEN COALESCE(`r`.`_primary`, TRUE) THEN `c`.`_output_tokens` ELSE 0 END,
  CASE WHEN COALESCE(`r`.`_primary`, TRUE) THEN `c`.`_cost_usd` ELSE 0 END,
  `c`.`_raw`,
  ?,
  ?,
  ?,
  CASE WHEN COALESCE(`r`.`_primary`, TRUE) THEN NULL ELSE 'shared' END,
  CASE WHEN COALESCE(`r`.`_primary`, TRUE) THEN NULL ELSE `c`.`_cost_usd` END
FROM `analytics`.`_batchsql_ticket_labels_collect` AS `c`
JOIN `analytics`.`_batchsql_ticket_labels_requests` AS `r`
  ON `r`.`_custom_id` = `c`.`_custom_id`
WHERE
  `r`.`_batch_uuid` = ?;
