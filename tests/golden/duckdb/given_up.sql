-- batchsql golden SQL: given_up, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  COUNT(*)
FROM "analytics"."_batchsql_ticket_labels_stage" AS "s"
WHERE
  (
    SELECT
      COUNT(*)
    FROM "analytics"."ticket_labels" AS "o"
    WHERE
      (
        (
          "o"."Region" = "s"."Region" AND "o"."Order ID" = "s"."Order ID"
        )
        AND "o"."_fingerprint" = "s"."_fingerprint"
      )
      AND "o"."_status" IN ('failed', 'invalid_output', 'missing')
  ) >= 3
  AND NOT EXISTS(
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
