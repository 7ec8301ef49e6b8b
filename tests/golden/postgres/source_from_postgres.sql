-- batchsql golden SQL: source_from_postgres, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
-- A % in source SQL is safe because the source runs without parameters: psycopg reads % as a
-- placeholder only when parameters are passed (pass None, not []).
SELECT
  CAST(ticket_id AS TEXT) AS ticket_id,
  subject,
  body
FROM raw.tickets
WHERE
  body ILIKE '%refund%' AND created_at > CURRENT_TIMESTAMP - INTERVAL '7 DAYS';
