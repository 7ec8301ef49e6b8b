-- batchsql golden SQL: create_inputs, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
CREATE TABLE `analytics`.`_batchsql_ticket_labels_input` AS
SELECT
  `Region`,
  `Order ID`,
  MD5(
    CONCAT(
      'sig',
      CASE
        WHEN `body` IS NULL
        THEN '~'
        ELSE CONCAT(CAST(LENGTH(CAST(`body` AS STRING)) AS STRING), ':', CAST(`body` AS STRING))
      END,
      CASE
        WHEN `subject` IS NULL
        THEN '~'
        ELSE CONCAT(CAST(LENGTH(CAST(`subject` AS STRING)) AS STRING), ':', CAST(`subject` AS STRING))
      END
    )
  ) AS `_input`
FROM (
  SELECT
    *
  FROM `raw`.`Tickets`
) AS `_batchsql_source`;
