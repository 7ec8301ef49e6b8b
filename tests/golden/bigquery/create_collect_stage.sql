-- batchsql golden SQL: create_collect_stage, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
CREATE TABLE IF NOT EXISTS `analytics`.`_batchsql_ticket_labels_collect` (
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
  `_custom_id` STRING,
  `_status` STRING,
  `_error` STRING,
  `_model` STRING,
  `_input_tokens` INT64,
  `_output_tokens` INT64,
  `_cost_usd` FLOAT64,
  `_raw` STRING
);
