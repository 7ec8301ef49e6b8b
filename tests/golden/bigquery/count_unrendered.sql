-- batchsql golden SQL: count_unrendered, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
SELECT
  COUNT(*),
  (
    SELECT
      COUNT(*)
    FROM `analytics`.`_batchsql_ticket_labels_input`
  )
FROM `analytics`.`_batchsql_ticket_labels_input` AS `i`
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM `analytics`.`_batchsql_ticket_labels_stage` AS `t`
    WHERE
      `t`.`Region` = `i`.`Region` AND `t`.`Order ID` = `i`.`Order ID`
  );
