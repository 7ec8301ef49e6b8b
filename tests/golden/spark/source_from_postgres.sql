-- batchsql golden SQL: source_from_postgres, spark dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- UPDATE and DELETE need a table format with row-level changes (Delta, Iceberg); plain Parquet or
-- Hive tables cannot run them.
SELECT
  CAST(ticket_id AS STRING) AS ticket_id,
  subject,
  body
FROM raw.tickets
WHERE
  body ILIKE '%refund%' AND created_at > CURRENT_TIMESTAMP() - INTERVAL '7' DAYS;
