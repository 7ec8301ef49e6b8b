-- batchsql golden SQL: update_batch, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
UPDATE "analytics"."_batchsql_batches" SET "status" = %s, "provider_batch_id" = %s
WHERE
  "batch_uuid" = %s;
