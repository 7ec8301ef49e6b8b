-- batchsql golden SQL: create_requests, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
CREATE TABLE IF NOT EXISTS `analytics`.`_batchsql_ticket_labels_requests` (
  `Region` STRING,
  `Order ID` BIGINT,
  `_batch_uuid` STRING,
  `_custom_id` STRING,
  `_fingerprint` STRING,
  `_attempt` INT,
  `_created_at` TIMESTAMP,
  `_primary` BOOLEAN
);
