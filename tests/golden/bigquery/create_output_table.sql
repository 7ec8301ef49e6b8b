-- batchsql golden SQL: create_output_table, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
-- BigQuery cannot store a NULL element inside an ARRAY (loading such an answer fails) and reads a
-- NULL array back as an empty one.
CREATE TABLE IF NOT EXISTS `analytics`.`ticket_labels` (
  `Region` STRING,
  `Order ID` INT64,
  `label` STRING,
  `priority` STRING,
  `summary` STRING,
  `confidence` FLOAT64,
  `urgent` BOOL,
  `tags` ARRAY<STRING>,
  `customer` STRUCT<
    `language` STRING,
    `address` STRUCT<`city` STRING, `zip` STRING>,
    `orders` ARRAY<INT64>
  >,
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
