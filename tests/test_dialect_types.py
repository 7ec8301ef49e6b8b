"""Answer and bookkeeping column types per warehouse, checked by how they render."""

from __future__ import annotations

import pytest
from sqlglot import exp

from batchsql import dialects, outputs, sql
from batchsql.spec import Spec, spec_from_dict

COLUMNS = {
    "label": {"type": "string", "enum": ["a", "b"]},
    "n": "integer",
    "score": "number",
    "ok": "boolean",
    "tags": {"type": "array", "items": "string"},
    "customer": {"type": "object", "properties": {
        "city": "string", "orders": {"type": "array", "items": "integer"}}},
    "grid": {"type": "array", "items": {"type": "array", "items": "number"}},
    "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": "string"}}},
}


def spec(**output: object) -> Spec:
    return spec_from_dict({"name": "x", "source": {"table": "t", "key": "id"},
                           "prompt": {"user": "JSON please: {{ a }}"}, "model": "gpt-4o-mini",
                           "output": {"table": "s.x", **output}})


def rendered(dialect: str, **output: object) -> dict[str, str]:
    columns = outputs.output_columns(spec(**output), [("id", sql.dtype("bigint", dialect))],
                                     dialect)
    return {name: kind.sql(dialect=dialect) for name, kind in columns}


def test_snowflake_stores_nested_answers_semi_structured() -> None:
    types = rendered("snowflake", columns=COLUMNS)
    assert {k: types[k] for k in COLUMNS} == {
        "label": "VARCHAR", "n": "BIGINT", "score": "DOUBLE", "ok": "BOOLEAN", "tags": "ARRAY",
        "customer": "OBJECT", "grid": "ARRAY", "lines": "ARRAY"}
    assert types["_collected_at"] == "TIMESTAMPNTZ" and types["id"] == "BIGINT"
    assert rendered("snowflake", format="json")["answer"] == "VARIANT"
    vectors = spec_from_dict({"name": "v", "endpoint": "embeddings", "model": "m",
                              "source": {"table": "t", "key": "id"},
                              "prompt": {"input": "{{ a }}"}, "output": {"table": "s.v"}})
    columns = dict(outputs.output_columns(vectors, [], "snowflake"))
    assert columns["embedding"].sql(dialect="snowflake") == "ARRAY"


def test_bigquery_keeps_structs_and_arrays_but_not_arrays_of_arrays() -> None:
    types = rendered("bigquery", columns=COLUMNS)
    assert {k: types[k] for k in COLUMNS} == {
        "label": "STRING", "n": "INT64", "score": "FLOAT64", "ok": "BOOL",
        "tags": "ARRAY<STRING>", "customer": "STRUCT<`city` STRING, `orders` ARRAY<INT64>>",
        "grid": "JSON", "lines": "ARRAY<STRUCT<`sku` STRING>>"}
    assert types["_collected_at"] == "TIMESTAMP"
    assert rendered("bigquery", format="json")["answer"] == "JSON"
    vector = dialects.column_type(exp.DataType.build("ARRAY<FLOAT>"), "bigquery")
    assert vector.sql(dialect="bigquery") == "ARRAY<FLOAT64>"


def test_an_array_of_arrays_inside_a_struct_is_json_on_bigquery() -> None:
    kind = exp.DataType.build("STRUCT<a ARRAY<ARRAY<INT>>, b INT>", dialect="duckdb")
    assert dialects.column_type(kind, "bigquery").sql(dialect="bigquery") == (
        "STRUCT<a JSON, b INT64>")


def test_databricks_keeps_structs_and_arrays_and_stores_json_as_text() -> None:
    types = rendered("databricks", columns=COLUMNS)
    assert types["customer"] == "STRUCT<`city`: STRING, `orders`: ARRAY<BIGINT>>"
    assert types["grid"] == "ARRAY<ARRAY<DOUBLE>>"
    assert rendered("databricks", format="json")["answer"] == "STRING"
    nested = exp.DataType.build("STRUCT<a JSON>", dialect="duckdb")
    assert dialects.column_type(nested, "databricks").sql(dialect="databricks") == (
        "STRUCT<a: STRING>")


def test_duckdb_types_are_untouched() -> None:
    types = rendered("duckdb", columns=COLUMNS)
    assert types["tags"] == "TEXT[]" and types["grid"] == "DOUBLE[][]"
    assert types["customer"] == 'STRUCT("city" TEXT, "orders" BIGINT[])'
    assert rendered("duckdb", format="json")["answer"] == "JSON"


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "databricks"])
def test_mapping_leaves_the_neutral_type_alone(dialect: str) -> None:
    kind = outputs.sql_type((spec(columns=COLUMNS).output.columns or {})["grid"])
    before = kind.sql()
    dialects.column_type(kind, dialect)
    assert kind.sql() == before
