-- batchsql golden SQL: insert_arrow, bigquery dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- CREATE SCHEMA creates a dataset (in the location the job runs in). Placeholders are positional
-- ?; NULL values are bound as NULL literals, since BigQuery needs a type for every parameter.
INSERT INTO `analytics`.`ticket_answers` (
  `Region`,
  `Order ID`,
  `answer`,
  `_status`
)
SELECT
  `Region`,
  `Order ID`,
  PARSE_JSON(`answer`),
  `_status`
FROM `analytics`.`_batchsql_in_0123abcd`;
