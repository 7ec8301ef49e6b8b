-- batchsql golden SQL: given_up, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
SELECT
  COUNT(*)
FROM `analytics`.`_batchsql_ticket_labels_stage` AS `s`
JOIN (
  SELECT
    `Region`,
    `Order ID`,
    `_fingerprint`,
    COUNT(*) AS `_failures`
  FROM `analytics`.`ticket_labels`
  WHERE
    `_status` IN ('failed', 'invalid_output', 'missing')
  GROUP BY
    `Region`,
    `Order ID`,
    `_fingerprint`
) AS `f`
  ON (
    `f`.`Region` = `s`.`Region` AND `f`.`Order ID` = `s`.`Order ID`
  )
  AND `f`.`_fingerprint` = `s`.`_fingerprint`
LEFT JOIN (
  SELECT
    `Region`,
    `Order ID`,
    `_fingerprint`
  FROM `analytics`.`ticket_labels`
  WHERE
    `_status` = 'succeeded'
  GROUP BY
    `Region`,
    `Order ID`,
    `_fingerprint`
) AS `d`
  ON `d`.`Region` = `s`.`Region`
  AND `d`.`Order ID` = `s`.`Order ID`
  AND `d`.`_fingerprint` = `s`.`_fingerprint`
WHERE
  `f`.`_failures` >= 3 AND `d`.`Region` IS NULL;
