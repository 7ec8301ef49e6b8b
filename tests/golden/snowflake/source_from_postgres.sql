-- batchsql golden SQL: source_from_postgres, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
SELECT
  CAST(ticket_id AS VARCHAR) AS ticket_id,
  subject,
  body
FROM raw.tickets
WHERE
  body ILIKE '%refund%' AND created_at > CURRENT_TIMESTAMP() - INTERVAL '7 DAYS';
