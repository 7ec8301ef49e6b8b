-- batchsql golden SQL: saved_by_run, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
SELECT
  SUM(`_saved_usd`)
FROM `analytics`.`ticket_labels`
WHERE
  `_run_id` = ?;
