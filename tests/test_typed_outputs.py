"""Typed structured outputs: nested columns in the spec, their strict JSON schema, answers
validated down to the path of a problem, typed warehouse columns, and `format: json`."""

from __future__ import annotations

import copy
import json
import random
import textwrap
from pathlib import Path
from typing import Any

import pytest
from openai.lib._pydantic import _ensure_strict_json_schema
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
from openai.types.shared_params import ResponseFormatJSONObject, ResponseFormatJSONSchema
from pydantic import TypeAdapter

from batchsql import outputs, plan, reconcile
from batchsql.emulator import Faults, answers
from batchsql.errors import SpecError
from batchsql.spec import Spec, load_spec, output_schema, spec_from_dict

from .conftest import TICKETS, Project

N = len(TICKETS)

TYPED = """\
name: labels
source:
  sql: select ticket_id, subject, body from raw.tickets
  key: ticket_id
prompt:
  system: You label tickets.
  user: |
    Subject: {{ subject }}
    {{ body }}
model: gpt-4o-mini
output:
  table: analytics.labels
  columns:
    label: {type: string, enum: [billing, bug, feature_request, account, other]}
    tags:
      type: array
      items: {type: string, enum: [refund, crash, login, ui, other]}
      min_items: 1
      max_items: 3
    keywords: {type: array, items: string, max_items: 5}
    customer:
      type: object
      description: Who wrote the ticket.
      properties:
        language: string
        mood: {type: string, enum: [angry, neutral, happy]}
        address:
          type: object
          required: false
          properties: {city: string, zip: {type: integer, minimum: 1000, maximum: 9999}}
    steps:
      type: array
      items:
        type: object
        properties:
          action: string
          minutes: {type: number, minimum: 0}
          done: boolean
    urgency: {type: integer, minimum: 1, maximum: 5, required: false}
max_attempts: 3
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "x.yml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


def spec_with(columns: dict[str, Any], **output: Any) -> Spec:
    return spec_from_dict({"name": "t", "source": {"table": "t", "key": "id"},
                           "prompt": {"user": "Answer in JSON: {{ body }}"}, "model": "gpt-4o-mini",
                           "output": {"table": "o", "columns": columns, **output}})


# --- the spec ---------------------------------------------------------------------------------

def test_nested_columns_and_shorthands_parse(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, TYPED))
    columns = spec.output.columns
    assert columns is not None
    tags, keywords, customer = columns["tags"], columns["keywords"], columns["customer"]
    assert tags.type == "array" and tags.items is not None and tags.items.enum is not None
    assert (tags.min_items, tags.max_items) == (1, 3)
    assert keywords.items is not None and keywords.items.type == "string"  # `items: string`
    assert customer.properties is not None
    assert customer.properties["language"].type == "string"  # shorthand inside properties
    address = customer.properties["address"]
    assert address.required is False and address.properties is not None
    assert address.properties["zip"].maximum == 9999
    assert columns["urgency"].required is False
    again = spec_from_dict(spec.model_dump())  # the model round-trips through plain data
    assert again.output == spec.output


BASE = """
    name: t
    source: {table: raw.t, key: id}
    prompt: {user: hi}
    model: m
    output:
      table: out.t
"""

# (columns or output lines under `output:` indented by 2, line, message part, hint part)
MALFORMED = [
    pytest.param("""
          columns:
            city: {type: string, items: string}
        """, 8, "output.columns.city: 'items' is only allowed on columns of type 'array'",
        "use 'type: array', or drop 'items'", id="items-on-string"),
    pytest.param("""
          columns:
            tags:
              type: array
              properties: {a: string}
        """, 10, "'properties' is only allowed on columns of type 'object'",
        "use 'type: object'", id="properties-on-array"),
    pytest.param("""
          columns:
            tags: array
        """, 8, "output.columns.tags: an array column needs 'items'", "items: string",
        id="array-without-items"),
    pytest.param("""
          columns:
            who:
              type: object
        """, 8, "output.columns.who: an object column needs 'properties'",
        "properties: {city: string", id="object-without-properties"),
    pytest.param("""
          columns:
            who: {type: object, properties: {}}
        """, 8, "an object column needs 'properties'", None, id="object-empty-properties"),
    pytest.param("""
          columns:
            who:
              type: object
              properties:
                first name: string
        """, 11, "property name 'first name' must start with a letter", "e.g. 'first_name'",
        id="bad-property-name"),
    pytest.param("""
          columns:
            who:
              type: object
              properties:
                City: string
                city: string
        """, 12, "property names 'City' and 'city' differ only in case", "rename one",
        id="property-names-differ-in-case"),
    pytest.param("""
          columns:
            Label: string
            label: string
        """, 9, "column names 'Label' and 'label' differ only in case", None,
        id="column-names-differ-in-case"),
    pytest.param("""
          columns:
            n: {type: integer, max_items: 3}
        """, 8, "'max_items' is only allowed on columns of type 'array'", None,
        id="max-items-on-integer"),
    pytest.param("""
          columns:
            tags:
              type: array
              items: string
              min_items: 4
              max_items: 2
        """, 11, "'min_items' is greater than 'max_items'", None, id="min-over-max-items"),
    pytest.param("""
          columns:
            tags: {type: array, items: string, max_items: -1}
        """, 8, "'max_items' must be at least 0, got -1", None, id="negative-max-items"),
    pytest.param("""
          columns:
            tags:
              type: array
              items: {type: string, required: false}
        """, 10, "'required' does not apply to array items", "beside 'items'",
        id="required-on-items"),
    pytest.param("""
          columns:
            tags:
              type: array
              items: strng
        """, 10, "'type' must be one of", "did you mean 'string'?", id="bad-items-shorthand"),
    pytest.param("""
          columns:
            tags:
              type: array
              item: string
        """, 10, "unknown key 'item'", "did you mean 'items'?", id="unknown-nested-key"),
    pytest.param("""
          columns:
            who:
              type: object
              properties:
                where:
                  type: object
                  properties:
                    geo: {type: array, items: {type: integer, enum: [a]}}
        """, 14, "'enum' is only allowed on columns of type 'string'", None,
        id="deep-nested-rule"),
    pytest.param("""
          columns: {}
        """, 7, "'columns' must declare at least one column", "drop 'columns'",
        id="empty-columns"),
    pytest.param("""
          format: text
          columns: {a: string}
        """, 7, "'format: text' cannot have columns", "drop 'format'", id="text-with-columns"),
    pytest.param("""
          format: yaml
        """, 7, "'format' must be one of 'text', 'json', got 'yaml'", None, id="bad-format"),
]


@pytest.mark.parametrize(("output", "line", "message", "hint"), MALFORMED)
def test_malformed_columns(tmp_path: Path, output: str, line: int, message: str,
                           hint: str | None) -> None:
    path = write(tmp_path, textwrap.dedent(BASE) + textwrap.indent(textwrap.dedent(output)
                                                                   .lstrip("\n"), "  "))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    err = info.value
    assert (err.path, err.line) == (path, line), str(err)
    assert message in err.message, err.message
    if hint is not None:
        assert err.hint is not None and hint in err.hint, err.hint


def nested(depth: int) -> dict[str, Any]:
    """An object column `depth` objects deep, ending in a string."""
    column: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        column = {"type": "object", "properties": {"x": column}}
    return column


def test_nesting_limit_counts_objects_and_arrays() -> None:
    # The answer is level 1, so nine nested objects reach OpenAI's ten levels.
    spec_with({"a": nested(9)})
    with pytest.raises(SpecError, match=r"'a\.x\.x\.x\.x\.x\.x\.x\.x\.x' is nested 11 levels"):
        spec_with({"a": nested(10)})
    spec_with({"a": {"type": "array", "items": nested(8)}})
    with pytest.raises(SpecError, match=r"'a\[\]\.x\.x\.x\.x\.x\.x\.x\.x' is nested 11 levels"):
        spec_with({"a": {"type": "array", "items": nested(9)}})  # the array is a level too


def test_nesting_limit_names_the_line(tmp_path: Path) -> None:
    lines = ["name: t", "source: {table: raw.t, key: id}", "prompt: {user: hi}", "model: m",
             "output:", "  table: o", "  columns:", "    a:"]
    for level in range(10):
        pad = "      " + "    " * level
        lines += [f"{pad}type: object", f"{pad}properties:", f"{pad}  x:"]
    lines.append("      " + "    " * 10 + "type: string")
    path = tmp_path / "deep.yml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    # The eleventh level is the ninth `x` (the tenth holds the string).
    assert info.value.line == lines.index("      " + "    " * 8 + "  x:") + 1
    assert "OpenAI allows 10" in info.value.message


def test_property_enum_and_text_limits() -> None:
    many = {f"c{i}": "boolean" for i in range(2_500)}
    spec_with(many)
    inner = {f"p{i}": "boolean" for i in range(2_501)}
    with pytest.raises(SpecError, match="'obj' brings the output past 5,000 properties"):
        spec_with({**many, "obj": {"type": "object", "properties": inner}})
    with pytest.raises(SpecError, match="more than 5,000 properties"):
        spec_with({f"c{i}": "boolean" for i in range(5_001)})

    enum = [f"v{i}" for i in range(600)]
    spec_with({"a": {"enum": enum[:500]}, "b": {"enum": enum[:499], "required": False}})
    with pytest.raises(SpecError, match=r"'b\[\]' brings the output past 1,000 enum values"):
        spec_with({"a": {"enum": enum}, "b": {"type": "array", "items": {"enum": enum[:401]}}})

    long_values = [f"{i:04d}" + "x" * 60 for i in range(251)]  # 251 values, ~16k characters
    with pytest.raises(SpecError, match="OpenAI allows 15,000 characters in an enum"):
        spec_with({"a": {"enum": long_values}})
    spec_with({"a": {"enum": long_values[:250]}})  # the quota is for enums over 250 values

    long_names = {f"c{i:03d}_" + "n" * 300: "boolean" for i in range(401)}
    with pytest.raises(SpecError, match=r"have 122,\d{3} characters; OpenAI allows 120,000"):
        spec_with(long_names)


def test_json_format_needs_the_word_json_in_the_prompt(tmp_path: Path) -> None:
    path = write(tmp_path, """
        name: t
        source: {table: raw.t, key: id}
        prompt:
          system: You summarise tickets.
          user: |
            Summarise this ticket:
            {{ body }}
        model: m
        output: {table: o, format: json}
        """)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert info.value.line == 6  # the user template's first line
    assert "needs the word JSON in the prompt" in info.value.message
    assert "Answer with a JSON object." in (info.value.hint or "")

    path = write(tmp_path, """
        name: t
        source: {table: raw.t, key: id}
        prompt:
          messages:
            - {role: system, content: Be brief.}
            - {role: user, content: "Summarise {{ body }}"}
            - {role: assistant, content: Sure.}
        model: m
        output: {table: o, format: json}
        """)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert info.value.line == 6  # the last user message

    ok = write(tmp_path, """
        name: t
        source: {table: raw.t, key: id}
        prompt: {system: Reply with a json object., user: "{{ body }}"}
        model: m
        output: {table: o, format: json}
        """)
    assert load_spec(ok).output.format == "json"


# --- the JSON schema and the request --------------------------------------------------------

def test_output_schema_is_recursive_and_strict(tmp_path: Path) -> None:
    schema = output_schema(load_spec(write(tmp_path, TYPED)))
    assert schema is not None
    props = schema["properties"]
    assert props["tags"] == {
        "type": "array", "minItems": 1, "maxItems": 3,
        "items": {"type": "string", "enum": ["refund", "crash", "login", "ui", "other"]}}
    assert props["keywords"] == {"type": "array", "items": {"type": "string"}, "maxItems": 5}
    assert props["customer"] == {
        "type": "object", "description": "Who wrote the ticket.",
        "properties": {
            "language": {"type": "string"},
            "mood": {"type": "string", "enum": ["angry", "neutral", "happy"]},
            "address": {
                "type": ["object", "null"],
                "properties": {"city": {"type": "string"},
                               "zip": {"type": "integer", "minimum": 1000, "maximum": 9999}},
                "required": ["city", "zip"], "additionalProperties": False},
        },
        "required": ["language", "mood", "address"], "additionalProperties": False}
    assert props["steps"]["items"]["required"] == ["action", "minutes", "done"]
    assert props["urgency"] == {"type": ["integer", "null"], "minimum": 1, "maximum": 5}
    optional = output_schema(spec_with({
        "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "required": False}}))
    assert optional is not None and optional["properties"]["tags"] == {
        "type": ["array", "null"], "items": {"type": "string", "enum": ["a", "b"]}}


def test_request_is_what_the_openai_sdk_accepts(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, TYPED))
    body = plan.build_body(spec, [{"role": "user", "content": "hi"}])
    response_format = body["response_format"]
    # TypedDict validation drops unknown keys, so equality also says there are none.
    assert TypeAdapter(ResponseFormatJSONSchema).validate_python(response_format) \
        == response_format
    checked = TypeAdapter(CompletionCreateParamsNonStreaming).validate_python(body)
    assert {**checked, "messages": list(checked["messages"])} == body
    # The SDK's own strict-mode normaliser (used for its pydantic helpers) changes nothing.
    schema = response_format["json_schema"]["schema"]
    normalised = copy.deepcopy(schema)
    assert _ensure_strict_json_schema(normalised, path=(), root=normalised) == schema

    json_spec = spec_from_dict({**spec.model_dump(), "output": {"table": "o", "format": "json"},
                                "prompt": {"user": "Reply in JSON: {{ body }}"}})
    body = plan.build_body(json_spec, [{"role": "user", "content": "Reply in JSON"}])
    assert body["response_format"] == {"type": "json_object"}
    assert TypeAdapter(ResponseFormatJSONObject).validate_python(body["response_format"]) \
        == body["response_format"]


def random_column(rng: random.Random, depth: int, item: bool = False) -> dict[str, Any]:
    kinds = ["string", "integer", "number", "boolean", "enum"]
    if depth < 4:
        kinds += ["array", "object"] * 2
    kind = rng.choice(kinds)
    column: dict[str, Any]
    if kind == "enum":
        column = {"enum": [f"e{i}" for i in range(rng.randint(1, 4))]}
    elif kind in ("integer", "number"):
        lo = rng.randint(-50, 50)
        column = {"type": kind, "minimum": lo, "maximum": lo + rng.randint(0, 20)}
    elif kind == "array":
        lo = rng.randint(0, 3)
        column = {"type": "array", "items": random_column(rng, depth + 1, item=True),
                  "min_items": lo}
        if rng.random() < 0.7:
            column["max_items"] = lo + rng.randint(0, 3)
    elif kind == "object":
        column = {"type": "object", "properties": {
            f"p{i}": random_column(rng, depth + 1) for i in range(rng.randint(1, 4))}}
    else:
        column = {"type": kind}
    if not item:
        column["required"] = rng.random() < 0.7
    return column


@pytest.mark.parametrize("seed", range(40))
def test_emulator_answers_every_schema_validly(seed: int) -> None:
    rng = random.Random(seed)
    spec = spec_with({f"c{i}": random_column(rng, 0) for i in range(rng.randint(1, 5))})
    words = " ".join(rng.choice(["invoice", "crash", "e1", "e3", "refund", "login"])
                     for _ in range(6))
    body = plan.build_body(spec, [{"role": "user", "content": f"Answer in JSON: {words}"}])
    content, _ = answers.chat_content(body)
    values, problem = reconcile.validate_answer(content, spec.output.columns or {})
    assert problem is None, (problem, content, output_schema(spec))
    assert set(values) == set(spec.output.columns or {})


# --- validating answers -----------------------------------------------------------------------

def answer_line(content: str, finish: str = "stop") -> bytes:
    body = {"id": "c", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": content, "refusal": None}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}}
    return json.dumps({"id": "r", "custom_id": "b-1", "error": None,
                       "response": {"status_code": 200, "request_id": "q", "body": body}}).encode()


GOOD = {
    "label": "bug", "tags": ["crash"], "keywords": ["export", "report"],
    "customer": {"language": "en", "mood": "angry", "address": None},
    "steps": [{"action": "reproduce", "minutes": 5.5, "done": False},
              {"action": "fix", "minutes": 60, "done": True}],
    "urgency": None,
}


def changed(path: tuple[Any, ...], value: Any = None, *, delete: bool = False) -> str:
    answer = copy.deepcopy(GOOD)
    node = answer
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return json.dumps(answer)


@pytest.fixture(scope="module")
def typed_spec(tmp_path_factory: pytest.TempPathFactory) -> Spec:
    return load_spec(write(tmp_path_factory.mktemp("typed"), TYPED))


def test_valid_nested_answer_gives_python_values(typed_spec: Spec) -> None:
    out = reconcile.parse_line(answer_line(json.dumps(GOOD)), typed_spec)
    assert out.status == "succeeded", out.error
    assert out.values["customer"] == {"language": "en", "mood": "angry", "address": None}
    assert out.values["steps"][1] == {"action": "fix", "minutes": 60.0, "done": True}
    assert out.values["tags"] == ["crash"] and out.values["urgency"] is None
    present = changed(("customer", "address"), {"city": "Basel", "zip": 4051.0})
    out = reconcile.parse_line(answer_line(present), typed_spec)
    assert out.values["customer"]["address"] == {"city": "Basel", "zip": 4051}


@pytest.mark.parametrize(("answer", "problem"), [
    (changed(("tags", 0), "x"), "'tags[0]' is 'x', not one of refund, crash, login, ui, other"),
    (changed(("tags",), ["crash", "ui", "login", "other"]),
     "'tags' has 4 items, more than max_items 3"),
    (changed(("tags",), []), "'tags' has 0 items, fewer than min_items 1"),
    (changed(("tags",), "crash"), "'tags' is not an array: 'crash'"),
    (changed(("tags",), ["crash", None]), "'tags[1]' is null"),
    (changed(("customer", "mood"), delete=True), "answer is missing required 'customer.mood'"),
    (changed(("customer", "address"), {"city": "Basel"}),
     "answer is missing required 'customer.address.zip'"),
    (changed(("customer", "address"), {"city": "Basel", "zip": 99}),
     "'customer.address.zip' is 99, below the minimum 1000"),
    (changed(("customer", "address"), {"city": "Basel", "zip": 4051, "street": "x"}),
     "'customer.address' has undeclared keys: street"),
    (changed(("customer",), ["en"]), "'customer' is not an object: ['en']"),
    (changed(("steps", 1, "minutes"), "an hour"), "'steps[1].minutes' is not a number: 'an hour'"),
    (changed(("steps", 1, "done"), 1), "'steps[1].done' is not a boolean: 1"),
    (changed(("steps", 0, "action"), 7), "'steps[0].action' is not a string: 7"),
    (changed(("urgency",), 2**70), "outside the 64-bit integer range"),
    (changed(("steps", 0, "minutes"), 10**400), "'steps[0].minutes' is not a finite number"),
    # A lone surrogate, escaped inside the answer's JSON or raw in the content itself.
    (changed(("label",), "\ud800"), "not valid Unicode"),
    (json.dumps(GOOD).replace('"bug"', '"\ud800"', 1), "not valid Unicode"),
])
def test_invalid_answers_name_the_path(typed_spec: Spec, answer: str, problem: str) -> None:
    out = reconcile.parse_line(answer_line(answer), typed_spec)
    assert out.status == "invalid_output"
    assert problem in (out.error or ""), out.error
    assert out.values == {}


# --- end to end: typed columns in the warehouse -----------------------------------------------

#: The output table's answer column types as each warehouse describes them. PostgreSQL has no
#: STRUCT: objects and arrays of objects are JSONB there; arrays of scalars stay native arrays.
TYPED_COLUMNS = {
    "duckdb": {"label": "VARCHAR", "tags": "VARCHAR[]", "urgency": "BIGINT",
               "customer": "STRUCT(language VARCHAR, mood VARCHAR, "
                           "address STRUCT(city VARCHAR, zip BIGINT))",
               "steps": "STRUCT(action VARCHAR, minutes DOUBLE, done BOOLEAN)[]"},
    "postgres": {"label": "character varying", "tags": "character varying[]",
                 "urgency": "bigint", "customer": "jsonb", "steps": "jsonb"},
}

#: In each warehouse's SQL: the answers with the type of a nested value and a list's length,
#: and the count of nested list elements that pass a condition on one of their fields.
NESTED_SQL = {
    "duckdb": ("select ticket_id, label, tags, customer, steps, urgency, "
               "typeof(customer.address.zip), cardinality(keywords) "
               "from analytics.labels_current order by ticket_id",
               "select count(*) from (select unnest(steps) as s "
               "from analytics.labels_current) where s.minutes >= 0"),
    "postgres": ("select ticket_id, label, tags, customer, steps, urgency, "
                 "jsonb_typeof(customer->'address'->'zip'), cardinality(keywords) "
                 "from analytics.labels_current order by ticket_id",
                 "select count(*) from analytics.labels_current, jsonb_array_elements(steps) s "
                 "where (s->>'minutes')::float8 >= 0"),
}
ZIP_TYPE = {"duckdb": "BIGINT", "postgres": "number"}


def decoded(value: Any) -> Any:
    """A nested value as Python data: DuckDB gives STRUCTs as dicts, PostgreSQL JSONB as text."""
    return json.loads(value) if isinstance(value, str) else value


def test_typed_columns_round_trip_into_the_warehouse(project: Project) -> None:
    project.write_spec(TYPED)
    first = project.run()
    assert (first.submitted, first.succeeded) == (N, N)
    with project.connect() as wh:
        # (DuckDB quotes the field names that are SQL keywords.)
        types = {n: k.replace('"', "") for n, k in wh.describe("select * from analytics.labels")}
    assert {n: types[n] for n in TYPED_COLUMNS[project.warehouse]} \
        == TYPED_COLUMNS[project.warehouse]
    rows_sql, nested_sql = NESTED_SQL[project.warehouse]
    rows = project.query(rows_sql)
    assert [r[0] for r in rows] == [t[0] for t in TICKETS]
    for _, label, tags, customer, steps, urgency, zip_type, keywords in rows:
        customer, steps = decoded(customer), decoded(steps)
        assert label in ("billing", "bug", "feature_request", "account", "other")
        assert isinstance(tags, list) and 1 <= len(tags) <= 3
        assert isinstance(customer, dict) and customer["mood"] in ("angry", "neutral", "happy")
        assert customer["address"] is None or 1000 <= customer["address"]["zip"] <= 9999
        assert isinstance(steps, list) and all(isinstance(s["done"], bool) for s in steps)
        assert urgency is None or 1 <= urgency <= 5
        # A JSON null address has no zip in PostgreSQL; DuckDB's NULL struct keeps its type.
        has_zip = customer["address"] is not None or project.warehouse == "duckdb"
        assert zip_type == (ZIP_TYPE[project.warehouse] if has_zip else None)
        assert keywords <= 5
    assert dict((r[0], r[1]) for r in rows)[1] == "billing"
    # Nested values are queryable as SQL, not strings to parse.
    assert project.query(nested_sql)[0][0] >= N
    again = project.run()
    assert (again.selected, again.submitted) == (0, 0)


@pytest.mark.parametrize(("wrong", "problem"), [
    (changed(("steps", 0, "action"), 3), "'steps[0].action' is not a string: 3"),
    (changed(("tags",), ["crash", "urgent"]),
     "'tags[1]' is 'urgent', not one of refund, crash, login, ui, other"),
    (changed(("customer", "mood"), delete=True), "answer is missing required 'customer.mood'"),
    (changed(("keywords",), ["a", "b", "c", "d", "e", "f"]),
     "'keywords' has 6 items, more than max_items 5"),
])
def test_invalid_answers_are_recorded_and_retried(project: Project, wrong: str,
                                                  problem: str) -> None:
    project.write_spec(TYPED)
    project.emulator.set_faults(Faults(wrong_answer_match="crashes with an error",
                                       wrong_answer=wrong))
    first = project.run()
    assert first.outcomes == {"succeeded": N - 1, "invalid_output": 1}
    status, error = project.query("select _status, _error from analytics.labels "
                                  "where ticket_id = 2")[0]
    assert status == "invalid_output" and error == problem
    project.emulator.set_faults(Faults())
    second = project.run()
    assert (second.selected, second.succeeded) == (1, 1)
    assert project.query("select _attempt from analytics.labels_current where ticket_id = 2") \
        == [(2,)]


# --- format: json -----------------------------------------------------------------------------

JSON_SPEC = """\
name: labels
source:
  sql: select ticket_id, subject, body from raw.tickets
  key: ticket_id
prompt:
  system: Describe the ticket as a JSON object.
  user: "{{ subject }}: {{ body }}"
model: gpt-4o-mini
output: {table: analytics.labels, format: json}
"""


def test_json_format_end_to_end(project: Project) -> None:
    project.write_spec(JSON_SPEC)
    project.emulator.set_faults(Faults(wrong_answer_match="Dark mode", wrong_answer="[1, 2]"))
    first = project.run()
    assert first.outcomes == {"succeeded": N - 1, "invalid_output": 1}
    types = dict(project.query("select column_name, data_type from information_schema.columns "
                               "where table_name = 'labels' and column_name = 'answer'"))
    assert types == {"answer": {"duckdb": "JSON", "postgres": "jsonb"}[project.warehouse]}
    error = project.query("select _error from analytics.labels where ticket_id = 3")[0][0]
    assert error == "answer is a JSON list, expected an object"
    json_type = {"duckdb": "json_type", "postgres": "jsonb_typeof"}[project.warehouse]
    rows = project.query(f"select answer, answer->>'emulator', {json_type}(answer) "
                         "from analytics.labels_current")
    assert len(rows) == N - 1
    assert all(isinstance(json.loads(a), dict) and e == "batchsql" and t.lower() == "object"
               for a, e, t in rows)
    sent = project.emulator.list_batches()[0]
    assert sent["endpoint"] == "/v1/chat/completions"
    project.emulator.set_faults(Faults())
    assert project.run().succeeded == 1


def test_json_answer_that_is_not_an_object_or_not_json_is_invalid() -> None:
    spec = spec_from_dict({"name": "t", "source": {"table": "t", "key": "id"},
                           "prompt": {"user": "JSON please"}, "model": "m",
                           "output": {"table": "o", "format": "json"}})
    assert [c.sql("duckdb") for _, c in outputs.value_columns(spec)] == ["JSON"]
    ok = reconcile.parse_line(answer_line('{"a": [1, {"b": null}]}'), spec)
    assert ok.status == "succeeded" and ok.values == {"answer": '{"a": [1, {"b": null}]}'}
    for content, problem in [("[1]", "JSON list, expected an object"),
                             ('{"a": NaN}', "NaN is not a JSON value"),
                             ('{"a": ', "not valid JSON")]:
        out = reconcile.parse_line(answer_line(content), spec)
        assert out.status == "invalid_output" and problem in (out.error or ""), out.error
    cut = reconcile.parse_line(answer_line('{"a": 1', finish="length"), spec)
    assert cut.status == "invalid_output" and "max_tokens" in (cut.error or "")


def test_text_format_is_the_default_answer_text() -> None:
    base = {"name": "t", "source": {"table": "t", "key": "id"}, "prompt": {"user": "hi"},
            "model": "m"}
    for output in ({"table": "o"}, {"table": "o", "format": "text"}):
        spec = spec_from_dict({**base, "output": output})
        assert [(n, c.sql("duckdb")) for n, c in outputs.value_columns(spec)] \
            == [("answer", "TEXT")]
        assert "response_format" not in plan.build_body(spec, [{"role": "user", "content": "x"}])


NUL_SPEC = """\
name: labels
source:
  sql: select ticket_id, subject, body from raw.tickets
  key: ticket_id
prompt:
  user: "Answer in JSON: {{ body }}"
model: gpt-4o-mini
output:
  table: analytics.labels
  columns:
    summary: string
    tags: {type: array, items: string}
    customer: {type: object, properties: {name: string}}
"""


@pytest.mark.parametrize("spec", ["columns", "json"])
def test_an_answer_holding_a_nul_character_is_collected(project: Project, spec: str) -> None:
    """PostgreSQL text and JSONB cannot hold U+0000: there it becomes U+FFFD (the raw line keeps
    the original). Refused, it would stop its whole batch from ever being collected."""
    answer = {"summary": "a\0b", "tags": ["c\0d"], "customer": {"name": "e\0f"}}
    text = NUL_SPEC if spec == "columns" else JSON_SPEC
    # keep_raw: all, for the raw line of a succeeded answer.
    project.write_spec(text.replace("table: analytics.labels",
                                    "keep_raw: all, table: analytics.labels"
                                    if spec == "json" else
                                    "table: analytics.labels\n  keep_raw: all"))
    project.emulator.set_faults(Faults(wrong_answer_match="crashes with an error",
                                       wrong_answer=json.dumps(answer)))
    assert project.run().outcomes == {"succeeded": N}
    nul = "\0" if project.warehouse == "duckdb" else "\ufffd"
    if spec == "columns":
        row = project.query("select summary, tags, customer, _raw from analytics.labels "
                            "where ticket_id = 2")[0]
        assert (row[0], row[1], decoded(row[2])) == (f"a{nul}b", [f"c{nul}d"],
                                                     {"name": f"e{nul}f"})
    else:
        row = project.query("select answer, _raw from analytics.labels where ticket_id = 2")[0]
        escaped = json.dumps(nul)[1:-1]
        assert json.loads(row[0]) == json.loads(json.dumps(answer).replace("\\u0000", escaped))
    assert "\\\\u0000" in row[-1]  # the raw line as received: the answer's escaped NUL
