-- batchsql golden SQL: create_stage, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
CREATE TABLE IF NOT EXISTS `analytics`.`_batchsql_ticket_labels_stage` (
  `Region` STRING,
  `Order ID` INT64,
  `_input` STRING,
  `_fingerprint` STRING,
  `_est_tokens` INT64,
  `_error` STRING,
  `_spool` STRING,
  `_seq` INT64
);
