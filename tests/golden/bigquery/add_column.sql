-- batchsql golden SQL: add_column, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
ALTER TABLE `analytics`.`_batchsql_batches`
ADD COLUMN `sole_create` BOOL;
