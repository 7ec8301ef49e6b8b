-- batchsql golden SQL: create_runs, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
CREATE TABLE IF NOT EXISTS `analytics`.`_batchsql_runs` (
  `run_id` STRING,
  `spec` STRING,
  `spec_path` STRING,
  `target` STRING,
  `user_name` STRING,
  `host` STRING,
  `status` STRING,
  `started_at` TIMESTAMP,
  `finished_at` TIMESTAMP,
  `selected` INT64,
  `submitted` INT64,
  `batches_submitted` INT64,
  `batches_collected` INT64,
  `succeeded` INT64,
  `failed` INT64,
  `given_up` INT64,
  `input_tokens` INT64,
  `output_tokens` INT64,
  `cost_usd` FLOAT64,
  `realtime_cost_usd` FLOAT64,
  `error` STRING,
  `shared` INT64,
  `reused` INT64,
  `saved_usd` FLOAT64,
  `est_cost_usd` FLOAT64,
  `max_cost_usd` FLOAT64,
  `over_budget` INT64
);
