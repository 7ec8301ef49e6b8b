-- batchsql golden SQL: padded_view, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
CREATE OR REPLACE VIEW `analytics`.`_batchsql_plan_ticket_labels` AS
SELECT
  `Region`,
  `Order ID`,
  `label`,
  `priority`,
  `summary`,
  `confidence`,
  `urgent`,
  `tags`,
  `customer`,
  `_status`,
  `_error`,
  `_attempt`,
  `_fingerprint`,
  `_batch_id`,
  `_custom_id`,
  `_model`,
  `_input_tokens`,
  `_output_tokens`,
  `_cost_usd`,
  `_raw`,
  `_run_id`,
  `_submitted_at`,
  `_collected_at`,
  CAST(NULL AS STRING) AS `_dedup`,
  CAST(NULL AS FLOAT64) AS `_saved_usd`
FROM `analytics`.`ticket_labels`;
