-- batchsql golden SQL: unrendered_rows_by_key, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
SELECT
  `s`.`Region`,
  `s`.`Order ID`,
  `s`.`body`,
  `s`.`subject`,
  TO_HEX(
    MD5(
      CONCAT(
        'sig',
        CASE
          WHEN `s`.`body` IS NULL
          THEN '~'
          ELSE CONCAT(CAST(LENGTH(CAST(`s`.`body` AS STRING)) AS STRING), ':', CAST(`s`.`body` AS STRING))
        END,
        CASE
          WHEN `s`.`subject` IS NULL
          THEN '~'
          ELSE CONCAT(
            CAST(LENGTH(CAST(`s`.`subject` AS STRING)) AS STRING),
            ':',
            CAST(`s`.`subject` AS STRING)
          )
        END
      )
    )
  ) AS `_input`
FROM (
  SELECT
    *
  FROM `raw`.`Tickets`
) AS `s`
WHERE
  EXISTS(
    SELECT
      1
    FROM `analytics`.`_batchsql_ticket_labels_stage_unrendered` AS `u`
    WHERE
      `u`.`Region` = `s`.`Region` AND `u`.`Order ID` = `s`.`Order ID`
  );
