-- batchsql golden SQL: create_inputs, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
CREATE TABLE `analytics`.`_batchsql_ticket_labels_input` AS
SELECT
  `Region`,
  `Order ID`,
  TO_HEX(
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
    )
  ) AS `_input`
FROM (
  SELECT
    *
  FROM `raw`.`Tickets`
) AS `_batchsql_source`;
