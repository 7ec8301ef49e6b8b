-- batchsql golden SQL: add_column, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
ALTER TABLE `analytics`.`_batchsql_batches`
ADD COLUMNS (
  `sole_create` BOOLEAN
);
