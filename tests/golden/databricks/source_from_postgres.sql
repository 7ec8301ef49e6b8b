-- batchsql golden SQL: source_from_postgres, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
SELECT
  CAST(ticket_id AS STRING) AS ticket_id,
  subject,
  body
FROM raw.tickets
WHERE
  body ILIKE '%refund%' AND created_at > CURRENT_TIMESTAMP() - INTERVAL '7' DAYS;
