-- batchsql golden SQL: delete_batch_outcomes, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
DELETE FROM `analytics`.`ticket_labels`
WHERE
  `_batch_id` = ?;
