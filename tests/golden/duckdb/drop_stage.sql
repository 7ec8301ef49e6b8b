-- batchsql golden SQL: drop_stage, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
DROP TABLE IF EXISTS "analytics"."_batchsql_ticket_labels_stage";
