-- batchsql golden SQL: rows_in_flight, duckdb dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
SELECT
  COUNT(*)
FROM "analytics"."_batchsql_ticket_labels_stage" AS "s"
WHERE
  EXISTS(
    SELECT
      1
    FROM "analytics"."_batchsql_ticket_labels_requests" AS "r"
    JOIN "analytics"."_batchsql_batches" AS "b"
      ON "b"."batch_uuid" = "r"."_batch_uuid"
    WHERE
      (
        "r"."Region" = "s"."Region" AND "r"."Order ID" = "s"."Order ID"
      )
      AND "b"."status" IN ('intent', 'submitted')
  );
