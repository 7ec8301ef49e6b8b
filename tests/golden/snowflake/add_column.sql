-- batchsql golden SQL: add_column, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
ALTER TABLE "analytics"."_batchsql_batches"
ADD "sole_create" BOOLEAN;
