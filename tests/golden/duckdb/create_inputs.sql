-- batchsql golden SQL: create_inputs, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
CREATE TABLE "analytics"."_batchsql_ticket_labels_input" AS
SELECT
  "Region",
  "Order ID",
  CAST(HASH('sig', "body", "subject") AS TEXT) AS "_input"
FROM (
  SELECT
    *
  FROM "raw"."Tickets"
) AS "_batchsql_source";
