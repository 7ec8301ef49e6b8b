-- batchsql golden SQL: delete_batch_outcomes, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
DELETE FROM "analytics"."ticket_labels"
WHERE
  "_batch_id" = %s;
