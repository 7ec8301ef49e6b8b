-- batchsql golden SQL: drop_stage, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
DROP TABLE IF EXISTS `analytics`.`_batchsql_ticket_labels_stage`;
