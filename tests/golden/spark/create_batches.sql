-- batchsql golden SQL: create_batches, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
CREATE TABLE IF NOT EXISTS `analytics`.`_batchsql_batches` (
  `batch_uuid` STRING,
  `spec` STRING,
  `output_table` STRING,
  `run_id` STRING,
  `chunk` INT,
  `provider` STRING,
  `endpoint` STRING,
  `model` STRING,
  `status` STRING,
  `provider_batch_id` STRING,
  `provider_status` STRING,
  `input_file_id` STRING,
  `output_file_id` STRING,
  `error_file_id` STRING,
  `request_count` BIGINT,
  `input_bytes` BIGINT,
  `est_input_tokens` BIGINT,
  `succeeded` BIGINT,
  `failed` BIGINT,
  `input_tokens` BIGINT,
  `output_tokens` BIGINT,
  `cost_usd` DOUBLE,
  `error` STRING,
  `created_at` TIMESTAMP,
  `submitted_at` TIMESTAMP,
  `collected_at` TIMESTAMP,
  `unknown_lines` BIGINT,
  `duplicates` STRING,
  `sole_create` BOOLEAN
);
