-- batchsql golden SQL: create_vector_table, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
CREATE TABLE IF NOT EXISTS `analytics`.`ticket_vectors` (
  `Region` STRING,
  `Order ID` INT64,
  `embedding` ARRAY<FLOAT64>,
  `_status` STRING,
  `_error` STRING,
  `_attempt` INT64,
  `_fingerprint` STRING,
  `_batch_id` STRING,
  `_custom_id` STRING,
  `_model` STRING,
  `_input_tokens` INT64,
  `_output_tokens` INT64,
  `_cost_usd` FLOAT64,
  `_raw` STRING,
  `_run_id` STRING,
  `_submitted_at` TIMESTAMP,
  `_collected_at` TIMESTAMP,
  `_dedup` STRING,
  `_saved_usd` FLOAT64
);
