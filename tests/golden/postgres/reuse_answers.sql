-- batchsql golden SQL: reuse_answers, postgres dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are %s (psycopg). A view can only gain columns at its end on CREATE OR REPLACE
-- VIEW: the output table only ever gains columns, at its end.
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
  "_attempt",
  "_fingerprint",
  "_custom_id",
  "_model",
  "_input_tokens",
  "_output_tokens",
  "_cost_usd",
  "_run_id",
  "_collected_at",
  "_dedup",
  "_saved_usd"
)
SELECT
  "p"."Region",
  "p"."Order ID",
  "a"."label",
  "a"."priority",
  "a"."summary",
  "a"."confidence",
  "a"."urgent",
  "a"."tags",
  "a"."customer",
  'succeeded',
  "p"."_attempt",
  "p"."_fingerprint",
  "a"."_custom_id",
  "a"."_model",
  0,
  0,
  0,
  %s,
  %s,
  'reused',
  CASE WHEN "a"."_dedup" IS NULL THEN "a"."_cost_usd" ELSE "a"."_saved_usd" END
FROM (
  SELECT
    "s".*,
    COALESCE("f"."_failures", 0) + 1 AS "_attempt"
  FROM "analytics"."_batchsql_ticket_labels_stage" AS "s"
  LEFT JOIN (
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
  LEFT JOIN (
    SELECT
      "Region",
      "Order ID",
      "_fingerprint"
    FROM "analytics"."ticket_labels"
    WHERE
      "_status" = 'succeeded'
    GROUP BY
      "Region",
      "Order ID",
      "_fingerprint"
  ) AS "d"
    ON "d"."Region" = "s"."Region"
    AND "d"."Order ID" = "s"."Order ID"
    AND "d"."_fingerprint" = "s"."_fingerprint"
  LEFT JOIN (
    SELECT
      "r"."Region",
      "r"."Order ID"
    FROM "analytics"."_batchsql_ticket_labels_requests" AS "r"
    JOIN "analytics"."_batchsql_batches" AS "b"
      ON "b"."batch_uuid" = "r"."_batch_uuid"
    WHERE
      "b"."status" IN ('intent', 'submitted')
    GROUP BY
      "r"."Region",
      "r"."Order ID"
  ) AS "i"
    ON "i"."Region" = "s"."Region" AND "i"."Order ID" = "s"."Order ID"
  WHERE
    (
      COALESCE("f"."_failures", 0) < 3 AND "d"."Region" IS NULL
    )
    AND "i"."Region" IS NULL
) AS "p"
JOIN (
  SELECT
    *,
    ROW_NUMBER() OVER (
      PARTITION BY "_fingerprint"
      ORDER BY CASE WHEN "_dedup" IS NULL THEN 0 ELSE 1 END, "_collected_at" DESC NULLS LAST, "_custom_id" DESC NULLS LAST
    ) AS "_rank"
  FROM "analytics"."ticket_labels"
  WHERE
    "_status" = 'succeeded'
) AS "a"
  ON "a"."_fingerprint" = "p"."_fingerprint" AND "a"."_rank" = 1;
