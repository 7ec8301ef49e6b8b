-- batchsql golden SQL: insert_arrow, databricks dialect.
-- Regenerate: BATCHSQL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py
-- Placeholders are native positional ? (Databricks Runtime 14.2 or later, at most 255 per
-- statement).
-- Rows are written by INSERTs of at most 255 bound values (the server's limit); nested values
-- arrive as JSON text.
INSERT INTO `analytics`.`ticket_labels` (
  `Region`,
  `Order ID`,
  `label`,
  `priority`,
  `summary`,
  `confidence`,
  `urgent`,
  `tags`,
  `customer`,
  `_status`,
  `_collected_at`
)
VALUES
  (
    ?,
    ?,
    ?,
    ?,
    ?,
    ?,
    ?,
    FROM_JSON(?, 'ARRAY<STRING>'),
    FROM_JSON(
      ?,
      'STRUCT<`language`: STRING, `address`: STRUCT<`city`: STRING, `zip`: STRING>, `orders`: ARRAY<BIGINT>>'
    ),
    ?,
    ?
  ),
  (
    ?,
    ?,
    ?,
    ?,
    ?,
    ?,
    ?,
    FROM_JSON(?, 'ARRAY<STRING>'),
    FROM_JSON(
      ?,
      'STRUCT<`language`: STRING, `address`: STRUCT<`city`: STRING, `zip`: STRING>, `orders`: ARRAY<BIGINT>>'
    ),
    ?,
    ?
  );
