-- batchsql golden SQL: source_columns, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
SELECT
  `Region`,
  `Order ID`,
  `subject`,
  `body`
FROM (
  SELECT
    *
  FROM `raw`.`Tickets`
) AS `_batchsql_source`;
