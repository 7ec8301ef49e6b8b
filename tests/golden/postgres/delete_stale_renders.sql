-- batchsql golden SQL: delete_stale_renders, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
DELETE FROM "analytics"."_batchsql_ticket_labels_stage" AS "t"
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM "analytics"."_batchsql_ticket_labels_input" AS "i"
    WHERE
      (
        "i"."Region" = "t"."Region" AND "i"."Order ID" = "t"."Order ID"
      )
      AND "i"."_input" = "t"."_input"
  );
