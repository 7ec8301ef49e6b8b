-- batchsql golden SQL: create_batches, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
CREATE TABLE IF NOT EXISTS `analytics`.`_batchsql_batches` (
  `batch_uuid` STRING,
  `spec` STRING,
  `output_table` STRING,
  `run_id` STRING,
  `chunk` INT64,
  `provider` STRING,
  `endpoint` STRING,
  `model` STRING,
  `status` STRING,
  `provider_batch_id` STRING,
  `provider_status` STRING,
  `input_file_id` STRING,
  `output_file_id` STRING,
  `error_file_id` STRING,
  `request_count` INT64,
  `input_bytes` INT64,
  `est_input_tokens` INT64,
  `succeeded` INT64,
  `failed` INT64,
  `input_tokens` INT64,
  `output_tokens` INT64,
  `cost_usd` FLOAT64,
  `error` STRING,
  `created_at` TIMESTAMP,
  `submitted_at` TIMESTAMP,
  `collected_at` TIMESTAMP,
  `unknown_lines` INT64,
  `duplicates` STRING,
  `sole_create` BOOL
);
