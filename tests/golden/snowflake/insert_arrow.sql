-- batchsql golden SQL: insert_arrow, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
-- The scratch table is bulk-loaded by ADBC (Parquet, PUT, COPY); COPY cannot fill ARRAY, OBJECT or
-- VARIANT from text, so the INSERT parses it.
INSERT INTO "analytics"."ticket_labels" (
  "Region",
  "Order ID",
  "label",
  "priority",
  "summary",
  "confidence",
  "urgent",
  "tags",
  "customer",
  "_status",
  "_collected_at"
)
SELECT
  "Region",
  "Order ID",
  "label",
  "priority",
  "summary",
  "confidence",
  "urgent",
  CAST(PARSE_JSON("tags") AS ARRAY),
  CAST(PARSE_JSON("customer") AS OBJECT),
  "_status",
  "_collected_at"
FROM "analytics"."_batchsql_in_0123abcd";
