-- batchsql golden SQL: source_from_postgres, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  CAST(ticket_id AS TEXT) AS ticket_id,
  subject,
  body
FROM raw.tickets
WHERE
  body ILIKE '%refund%' AND created_at > CURRENT_TIMESTAMP - INTERVAL '7' DAYS;
