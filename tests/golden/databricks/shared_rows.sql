-- batchsql golden SQL: shared_rows, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
SELECT
  `Region`,
  `Order ID`,
  `_fingerprint`,
  `_attempt`,
  `_error`
FROM (
  SELECT
    `Region`,
    `Order ID`,
    `_fingerprint`,
    `_attempt`,
    `_error`,
    ROW_NUMBER() OVER (PARTITION BY `_fingerprint` ORDER BY `Region` NULLS LAST, `Order ID` NULLS LAST) AS `_rank`,
    COUNT(*) OVER (PARTITION BY `_fingerprint`) AS `_copies`
  FROM (
    SELECT
      `s`.*,
      COALESCE(`f`.`_failures`, 0) + 1 AS `_attempt`
    FROM `analytics`.`_batchsql_ticket_labels_stage` AS `s`
    LEFT JOIN (
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
    LEFT JOIN (
      SELECT
        `r`.`Region`,
        `r`.`Order ID`
      FROM `analytics`.`_batchsql_ticket_labels_requests` AS `r`
      JOIN `analytics`.`_batchsql_batches` AS `b`
        ON `b`.`batch_uuid` = `r`.`_batch_uuid`
      WHERE
        `b`.`status` IN ('intent', 'submitted')
      GROUP BY
        `r`.`Region`,
        `r`.`Order ID`
    ) AS `i`
      ON `i`.`Region` = `s`.`Region` AND `i`.`Order ID` = `s`.`Order ID`
    WHERE
      (
        COALESCE(`f`.`_failures`, 0) < 3 AND `d`.`Region` IS NULL
      )
      AND `i`.`Region` IS NULL
  ) AS `p`
) AS `r`
WHERE
  `_rank` > 1;
