-- batchsql golden SQL: add_column, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
ALTER TABLE "analytics"."_batchsql_batches"
ADD COLUMN "sole_create" BOOLEAN;
