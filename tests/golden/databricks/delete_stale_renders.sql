-- batchsql golden SQL: delete_stale_renders, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
DELETE FROM `analytics`.`_batchsql_ticket_labels_stage` AS `t`
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM `analytics`.`_batchsql_ticket_labels_input` AS `i`
    WHERE
      (
        `i`.`Region` = `t`.`Region` AND `i`.`Order ID` = `t`.`Order ID`
      )
      AND `i`.`_input` = `t`.`_input`
  );
