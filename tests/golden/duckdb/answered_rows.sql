-- batchsql golden SQL: answered_rows, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  COUNT(*)
FROM "analytics"."_batchsql_ticket_labels_stage" AS "s"
WHERE
  EXISTS(
    SELECT
      1
    FROM "analytics"."ticket_labels" AS "o"
    WHERE
      (
        (
          "o"."Region" = "s"."Region" AND "o"."Order ID" = "s"."Order ID"
        )
        AND "o"."_fingerprint" = "s"."_fingerprint"
      )
      AND "o"."_status" = 'succeeded'
  );
