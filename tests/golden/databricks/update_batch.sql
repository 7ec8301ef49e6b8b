-- batchsql golden SQL: update_batch, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
UPDATE `analytics`.`_batchsql_batches` SET `status` = ?, `provider_batch_id` = ?
WHERE
  `batch_uuid` = ?;
