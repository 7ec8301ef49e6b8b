-- batchsql golden SQL: unknown_lines, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
SELECT
  COUNT(*)
FROM `analytics`.`_batchsql_ticket_labels_collect` AS `c`
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM `analytics`.`_batchsql_ticket_labels_requests` AS `r`
    WHERE
      `r`.`_custom_id` = `c`.`_custom_id` AND `r`.`_batch_uuid` = ?
  );
