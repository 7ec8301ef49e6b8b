-- batchsql golden SQL: given_up, snowflake dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Every identifier and alias is quoted: Snowflake folds unquoted names to upper case, so names
-- keep their spec spelling and must be quoted when queried. Placeholders are ? (qmark binding).
SELECT
  COUNT(*)
FROM "analytics"."_batchsql_ticket_labels_stage" AS "s"
JOIN (
  SELECT
    "Region",
    "Order ID",
    "_fingerprint",
    COUNT(*) AS "_failures"
  FROM "analytics"."ticket_labels"
  WHERE
    "_status" IN ('failed', 'invalid_output', 'missing')
  GROUP BY
    "Region",
    "Order ID",
    "_fingerprint"
) AS "f"
  ON (
    "f"."Region" = "s"."Region" AND "f"."Order ID" = "s"."Order ID"
  )
  AND "f"."_fingerprint" = "s"."_fingerprint"
WHERE
  "f"."_failures" >= 3
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
