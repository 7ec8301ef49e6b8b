-- batchsql golden SQL: create_requests, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
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
