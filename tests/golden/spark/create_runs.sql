-- batchsql golden SQL: create_runs, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
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
  `selected` BIGINT,
  `submitted` BIGINT,
  `batches_submitted` BIGINT,
  `batches_collected` BIGINT,
  `succeeded` BIGINT,
  `failed` BIGINT,
  `given_up` BIGINT,
  `input_tokens` BIGINT,
  `output_tokens` BIGINT,
  `cost_usd` DOUBLE,
  `realtime_cost_usd` DOUBLE,
  `error` STRING,
  `shared` BIGINT,
  `reused` BIGINT,
  `saved_usd` DOUBLE,
  `est_cost_usd` DOUBLE,
  `max_cost_usd` DOUBLE,
  `over_budget` BIGINT
);
