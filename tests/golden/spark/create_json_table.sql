-- batchsql golden SQL: create_json_table, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
CREATE TABLE IF NOT EXISTS `analytics`.`ticket_answers` (
  `Region` STRING,
  `Order ID` BIGINT,
  `answer` STRING,
  `_status` STRING,
  `_error` STRING,
  `_attempt` INT,
  `_fingerprint` STRING,
  `_batch_id` STRING,
  `_custom_id` STRING,
  `_model` STRING,
  `_input_tokens` BIGINT,
  `_output_tokens` BIGINT,
  `_cost_usd` DOUBLE,
  `_raw` STRING,
  `_run_id` STRING,
  `_submitted_at` TIMESTAMP,
  `_collected_at` TIMESTAMP,
  `_dedup` STRING,
  `_saved_usd` DOUBLE
);
