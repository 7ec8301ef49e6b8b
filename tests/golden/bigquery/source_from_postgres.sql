-- batchsql golden SQL: source_from_postgres, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
SELECT
  CAST(ticket_id AS STRING) AS ticket_id,
  subject,
  body
FROM raw.tickets
WHERE
  LOWER(body) LIKE LOWER('%refund%')
  AND created_at > CURRENT_TIMESTAMP() - INTERVAL '7' DAY;
