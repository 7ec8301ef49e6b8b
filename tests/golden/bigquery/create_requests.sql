-- batchsql golden SQL: create_requests, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
CREATE TABLE IF NOT EXISTS `analytics`.`_batchsql_ticket_labels_requests` (
  `Region` STRING,
  `Order ID` INT64,
  `_batch_uuid` STRING,
  `_custom_id` STRING,
  `_fingerprint` STRING,
  `_attempt` INT64,
  `_created_at` TIMESTAMP,
  `_primary` BOOL
);
