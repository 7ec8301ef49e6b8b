-- batchsql golden SQL: add_column, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
ALTER TABLE "analytics"."_batchsql_batches"
ADD COLUMN "sole_create" BOOLEAN;
