-- batchsql golden SQL: delete_batch_outcomes, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
DELETE FROM "analytics"."ticket_labels"
WHERE
  "_batch_id" = ?;
