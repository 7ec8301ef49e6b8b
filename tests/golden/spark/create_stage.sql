-- batchsql golden SQL: create_stage, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
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
