-- batchsql golden SQL: answered_rows, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
SELECT
  COUNT(*)
FROM `analytics`.`_batchsql_ticket_labels_stage` AS `s`
WHERE
  EXISTS(
    SELECT
      1
    FROM `analytics`.`ticket_labels` AS `o`
    WHERE
      (
        (
          `o`.`Region` = `s`.`Region` AND `o`.`Order ID` = `s`.`Order ID`
        )
        AND `o`.`_fingerprint` = `s`.`_fingerprint`
      )
      AND `o`.`_status` = 'succeeded'
  );
