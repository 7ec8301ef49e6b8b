-- batchsql golden SQL: rows_in_flight, bigquery dialect.
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
    FROM `analytics`.`_batchsql_ticket_labels_requests` AS `r`
    JOIN `analytics`.`_batchsql_batches` AS `b`
      ON `b`.`batch_uuid` = `r`.`_batch_uuid`
    WHERE
      (
        `r`.`Region` = `s`.`Region` AND `r`.`Order ID` = `s`.`Order ID`
      )
      AND `b`.`status` IN ('intent', 'submitted')
  );
