-- batchsql golden SQL: create_stage, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
CREATE TABLE IF NOT EXISTS `analytics`.`_batchsql_ticket_labels_stage` (
  `Region` STRING,
  `Order ID` BIGINT,
  `_input` STRING,
  `_fingerprint` STRING,
  `_est_tokens` BIGINT,
  `_error` STRING,
  `_spool` STRING,
  `_seq` BIGINT
);
