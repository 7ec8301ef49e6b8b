-- batchsql golden SQL: delete_stale_renders, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
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
