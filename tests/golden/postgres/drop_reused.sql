-- batchsql golden SQL: drop_reused, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
DELETE FROM "analytics"."_batchsql_ticket_labels_pending" AS "p"
WHERE
  EXISTS(
    SELECT
      1
    FROM "analytics"."ticket_labels" AS "o"
    WHERE
      (
        (
          "o"."Region" = "p"."Region" AND "o"."Order ID" = "p"."Order ID"
        )
        AND "o"."_run_id" = %s
      )
      AND "o"."_dedup" = 'reused'
  );
