-- batchsql golden SQL: count_unrendered, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
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
