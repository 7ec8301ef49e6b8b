-- batchsql golden SQL: create_collect_stage, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
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
