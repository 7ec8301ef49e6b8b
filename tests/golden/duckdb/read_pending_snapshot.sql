-- batchsql golden SQL: read_pending_snapshot, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  *
FROM "analytics"."_batchsql_ticket_labels_pending";
