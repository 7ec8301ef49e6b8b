-- batchsql golden SQL: add_column, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
ALTER TABLE `analytics`.`_batchsql_batches`
ADD COLUMNS (
  `sole_create` BOOLEAN
);
