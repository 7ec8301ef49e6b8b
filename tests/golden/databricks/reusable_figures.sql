-- batchsql golden SQL: reusable_figures, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
SELECT
  COUNT(*),
  SUM(`p`.`_est_tokens`)
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
  WHERE
    (
      NOT EXISTS(
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
      )
      AND NOT EXISTS(
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
      )
    )
    AND COALESCE(`f`.`_failures`, 0) < 3
) AS `p`
WHERE
  EXISTS(
    SELECT
      1
    FROM `analytics`.`ticket_labels` AS `a`
    WHERE
      `a`.`_fingerprint` = `p`.`_fingerprint` AND `a`.`_status` = 'succeeded'
  );
