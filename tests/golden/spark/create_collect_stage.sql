-- batchsql golden SQL: create_collect_stage, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
CREATE TABLE IF NOT EXISTS `analytics`.`_batchsql_ticket_labels_collect` (
  `label` STRING,
  `priority` STRING,
  `summary` STRING,
  `confidence` DOUBLE,
  `urgent` BOOLEAN,
  `tags` ARRAY<STRING>,
  `customer` STRUCT<
    `language`: STRING,
    `address`: STRUCT<`city`: STRING, `zip`: STRING>,
    `orders`: ARRAY<BIGINT>
  >,
  `_custom_id` STRING,
  `_status` STRING,
  `_error` STRING,
  `_model` STRING,
  `_input_tokens` BIGINT,
  `_output_tokens` BIGINT,
  `_cost_usd` DOUBLE,
  `_raw` STRING
);
