-- batchsql golden SQL: update_batch, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
UPDATE `analytics`.`_batchsql_batches` SET `status` = ?, `provider_batch_id` = ?
WHERE
  `batch_uuid` = ?;
