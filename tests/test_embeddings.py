"""Embeddings: `endpoint: embeddings` specs, their requests, vectors in a FLOAT[] column."""

from __future__ import annotations

import base64
import json
import struct
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from openai.types import EmbeddingCreateParams
from pydantic import TypeAdapter

from batchsql import outputs, plan, reconcile
from batchsql.emulator import Faults
from batchsql.errors import SpecError
from batchsql.prompts import compile_prompt
from batchsql.spec import Spec, load_spec, spec_from_dict

from .conftest import Project

EMBED = """\
name: docs
endpoint: embeddings
source:
  table: raw.docs
  key: doc_id
prompt:
  input: "{{ title }}: {{ body }}"
model: text-embedding-3-small
params: {dimensions: 16}
output: {table: analytics.doc_vectors}
"""

DOCS = [
    (1, "Refunds", "How to get your money back."),
    (2, "Refunds", "How to get your money back."),  # the same text as doc 1
    (3, "Dark mode", "Switch the app to a dark theme."),
    (4, "Passwords", "Reset a forgotten password by email."),
]


def embeddings_spec(**changes: Any) -> Spec:
    data: dict[str, Any] = {"name": "d", "endpoint": "embeddings",
                            "source": {"table": "t", "key": "id"},
                            "prompt": {"input": "{{ title }}: {{ body }}"},
                            "model": "text-embedding-3-small", "output": {"table": "o"}}
    return spec_from_dict({**data, **changes})


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "e.yml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


# --- the spec ---------------------------------------------------------------------------------

def test_embeddings_spec_parses(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, EMBED))
    assert spec.endpoint == "embeddings" and spec.prompt.input == "{{ title }}: {{ body }}"
    assert spec.params == {"dimensions": 16}
    assert embeddings_spec().endpoint == "embeddings"
    assert spec_from_dict({**embeddings_spec().model_dump(), "name": "e"}).endpoint == "embeddings"


MALFORMED = [
    pytest.param("""
        name: t
        endpoint: embeddings
        source: {table: raw.t, key: id}
        prompt:
          user: "{{ body }}"
        model: text-embedding-3-small
        output: {table: o}
        """, 5, "'endpoint: embeddings' takes the text to embed as 'input', not 'user'",
        "prompt: {input:", id="chat-prompt-for-embeddings"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt:
          input: "{{ body }}"
        model: gpt-4o-mini
        output: {table: o}
        """, 4, "'input' is the text to embed, for 'endpoint: embeddings' only",
        "add 'endpoint: embeddings'", id="input-for-chat"),
    pytest.param("""
        name: t
        endpoint: embeddings
        source: {table: raw.t, key: id}
        prompt:
          system: Be brief.
          input: "{{ body }}"
        model: text-embedding-3-small
        output: {table: o}
        """, 6, "use either 'input' (embeddings) or 'system' (chat), not both", None,
        id="input-and-system"),
    pytest.param("""
        name: t
        endpoint: embeddings
        source: {table: raw.t, key: id}
        prompt: {input: "{{ body }}"}
        model: text-embedding-3-small
        output:
          table: o
          columns: {label: string}
        """, 8, "'output.columns' does not apply to embeddings", "drop 'columns'",
        id="columns-for-embeddings"),
    pytest.param("""
        name: t
        endpoint: embeddings
        source: {table: raw.t, key: id}
        prompt: {input: "{{ body }}"}
        model: text-embedding-3-small
        output: {table: o, format: json}
        """, 6, "'output.format' does not apply to embeddings", "drop 'format'",
        id="format-for-embeddings"),
    pytest.param("""
        name: t
        endpoint: embeddings
        source: {table: raw.t, key: id}
        prompt: {input: "{{ body }}"}
        model: text-embedding-3-small
        params:
          dimensions: 256
          temperature: 0
        output: {table: o}
        """, 8, "'temperature' is not a parameter of embeddings requests",
        "dimensions, encoding_format, user", id="chat-param-for-embeddings"),
    pytest.param("""
        name: t
        endpoint: embeddings
        source: {table: raw.t, key: id}
        prompt: {input: "{{ body }}"}
        model: text-embedding-3-small
        params: {dimensions: "256"}
        output: {table: o}
        """, 6, "'dimensions' must be a whole number of at least 1, got '256'", None,
        id="dimensions-not-a-number"),
    pytest.param("""
        name: t
        endpoint: embeddings
        source: {table: raw.t, key: id}
        prompt: {input: "{{ body }}"}
        model: text-embedding-3-small
        params:
          encoding_format: float32
        output: {table: o}
        """, 7, "'encoding_format' must be 'float' or 'base64', got 'float32'", None,
        id="bad-encoding-format"),
    pytest.param("""
        name: t
        endpoint: embedding
        source: {table: raw.t, key: id}
        prompt: {input: "{{ body }}"}
        model: text-embedding-3-small
        output: {table: o}
        """, 2, "'endpoint' must be one of 'chat', 'embeddings', got 'embedding'",
        "did you mean 'embeddings'?", id="bad-endpoint"),
    pytest.param("""
        name: t
        endpoint: embeddings
        source: {table: raw.t, key: embedding}
        prompt: {input: "{{ body }}"}
        model: text-embedding-3-small
        output: {table: o}
        """, 3, "key column 'embedding' has the name of the column the answer goes to",
        "select embedding as embedding_id", id="key-named-embedding"),
]


@pytest.mark.parametrize(("text", "line", "message", "hint"), MALFORMED)
def test_malformed_embeddings_specs(tmp_path: Path, text: str, line: int, message: str,
                                    hint: str | None) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert (info.value.path, info.value.line) == (path, line), str(info.value)
    assert message in info.value.message, info.value.message
    if hint is not None:
        assert info.value.hint is not None and hint in info.value.hint, info.value.hint


# --- prompt and request -------------------------------------------------------------------

def test_input_template_renders_text_and_is_checked(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, EMBED.replace("{{ body }}", "{{ bdy }}")))
    prompt = compile_prompt(spec)
    assert prompt.variables() == {"title", "bdy"}
    with pytest.raises(SpecError) as info:
        prompt.check_columns(["doc_id", "title", "body"])
    assert info.value.line == 7 and "the input template uses 'bdy'" in info.value.message
    assert info.value.hint == "did you mean 'body'?"

    prompt = compile_prompt(embeddings_spec())
    assert prompt.render({"title": "A", "body": "b"}) == "A: b"
    with pytest.raises(ValueError, match="input to embed is empty"):
        compile_prompt(embeddings_spec(prompt={"input": "{{ body }}"})).render({"body": None})
    broken = write(tmp_path, EMBED.replace("{{ body }}", "{{ body }"))
    with pytest.raises(SpecError, match=r"e\.yml:7: template syntax error in the input template"):
        compile_prompt(load_spec(broken))


def test_request_body_defaults_to_base64_and_fits_the_sdk() -> None:
    spec = embeddings_spec(params={"dimensions": 16, "user": "u1"})
    assert plan.request_url(spec) == "/v1/embeddings"
    body = plan.build_body(spec, "A: b")
    assert body == {"model": "text-embedding-3-small", "input": "A: b", "dimensions": 16,
                    "user": "u1", "encoding_format": "base64"}
    # TypedDict validation drops unknown keys, so equality also says there are none.
    assert TypeAdapter(EmbeddingCreateParams).validate_python(body) == body
    floats = embeddings_spec(params={"encoding_format": "float"})
    assert plan.build_body(floats, "x")["encoding_format"] == "float"
    # The default is part of the body, hence of the fingerprint: stated once, stable after.
    assert plan.canonical_json(body) == (
        '{"dimensions":16,"encoding_format":"base64","input":"A: b",'
        '"model":"text-embedding-3-small","user":"u1"}')


# --- result lines -----------------------------------------------------------------------------

def result_line(embedding: Any, status: int = 200) -> bytes:
    body: dict[str, Any] = {"object": "list", "model": "text-embedding-3-small",
                            "data": [{"object": "embedding", "index": 0, "embedding": embedding}],
                            "usage": {"prompt_tokens": 7, "total_tokens": 7}}
    if status >= 400:
        body = {"error": {"message": "too long", "type": "invalid_request_error",
                          "code": "context_length_exceeded"}}
    return json.dumps({"id": "r", "custom_id": "b-1", "error": None,
                       "response": {"status_code": status, "request_id": "q",
                                    "body": body}}).encode()


def packed(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def test_vectors_from_base64_or_floats() -> None:
    spec = embeddings_spec(params={"dimensions": 3})
    vector = [0.5, -0.25, 0.125]  # exact in float32
    for embedding in (packed(vector), vector):
        out = reconcile.parse_line(result_line(embedding), spec)
        assert out.status == "succeeded", out.error
        assert list(out.values["embedding"]) == vector
        assert (out.input_tokens, out.output_tokens) == (7, 0)
        assert out.model == "text-embedding-3-small"


@pytest.mark.parametrize(("embedding", "problem"), [
    ([0.1, 0.2], "embedding has 2 dimensions, not the 3 asked for"),
    (packed([0.1] * 4), "embedding has 4 dimensions, not the 3 asked for"),
    ("not base64!", "embedding is not valid base64"),
    (base64.b64encode(b"12345").decode(), "base64 embedding has 5 bytes"),
    ([0.1, "x", 0.3], "neither a list of numbers nor base64 text"),
    ([0.1, True, 0.3], "neither a list of numbers nor base64 text"),
    ([], "embedding is empty"),
    ([1e39, 0.0, 0.0], "not a finite float32"),
    (packed([float("nan"), 0.0, 0.0]), "not a finite float32"),
])
def test_bad_vectors_are_invalid_output(embedding: Any, problem: str) -> None:
    out = reconcile.parse_line(result_line(embedding), embeddings_spec(params={"dimensions": 3}))
    assert out.status == "invalid_output"
    assert problem in (out.error or ""), out.error


def test_error_lines_and_missing_data_fail() -> None:
    spec = embeddings_spec()
    out = reconcile.parse_line(result_line(None, status=400), spec)
    assert out.status == "failed"
    assert out.error == "HTTP 400 context_length_exceeded: too long"
    empty = json.dumps({"custom_id": "b-1", "error": None, "response": {
        "status_code": 200, "body": {"object": "list", "data": []}}}).encode()
    out = reconcile.parse_line(empty, spec)
    assert (out.status, out.error) == ("failed", "response has no embedding data")


def test_embedding_column_is_a_float_list() -> None:
    spec = embeddings_spec(params={"dimensions": 3})
    assert [(n, t.sql("duckdb")) for n, t in outputs.value_columns(spec)] \
        == [("embedding", "REAL[]")]
    assert [(n, str(t)) for n, t in outputs.value_arrow_schema(spec)] \
        == [("embedding", "list<item: float>")]
    lines = [result_line(packed([0.5, 1.5, -2.0])), result_line([0.1]),
             result_line([0.25, 0.0, 1.0])]
    table = outputs.outcome_table(spec, [reconcile.parse_line(x, spec) for x in lines], None)
    assert table.column("embedding").type == pa.list_(pa.float32())
    assert table.column("embedding").to_pylist() == [[0.5, 1.5, -2.0], None, [0.25, 0.0, 1.0]]
    assert table.column("_status").to_pylist() == ["succeeded", "invalid_output", "succeeded"]


# --- end to end -----------------------------------------------------------------------------

def add_docs(project: Project, rows: list[tuple[int, str, str]]) -> None:
    ids, titles, bodies = zip(*rows, strict=True)
    project.load("raw.docs", pa.table({
        "doc_id": pa.array(ids, pa.int64()), "title": pa.array(titles, pa.string()),
        "body": pa.array(bodies, pa.string())}))


#: The type of the embedding column as each warehouse names it, and the function that says so.
VECTOR_TYPE = {"duckdb": "FLOAT[]", "postgres": "real[]"}
TYPEOF = {"duckdb": "typeof", "postgres": "pg_typeof"}

#: Cosine similarity of every pair of documents, and each vector's norm. DuckDB has list
#: functions; PostgreSQL (without the pgvector extension) sums over the unnested arrays.
VECTOR_SQL = {
    "duckdb": ("select a.doc_id, b.doc_id, list_cosine_similarity(a.embedding, b.embedding) "
               "from analytics.doc_vectors_current a, analytics.doc_vectors_current b "
               "where a.doc_id < b.doc_id",
               "select sqrt(list_dot_product(embedding, embedding)) "
               "from analytics.doc_vectors_current"),
    "postgres": ("select a.doc_id, b.doc_id, sum(x * y) / sqrt(sum(x * x) * sum(y * y)) "
                 "from analytics.doc_vectors_current a, analytics.doc_vectors_current b, "
                 "unnest(a.embedding::float8[], b.embedding::float8[]) as u(x, y) "
                 "where a.doc_id < b.doc_id group by a.doc_id, b.doc_id",
                 "select sqrt(sum(x * x)) from analytics.doc_vectors_current, "
                 "unnest(embedding::float8[]) as u(x) group by doc_id"),
}


@pytest.mark.parametrize("encoding", ["base64", "float"])
def test_embeddings_end_to_end(project: Project, encoding: str) -> None:
    add_docs(project, DOCS)
    params = "{dimensions: 16}" if encoding == "base64" else \
        "{dimensions: 16, encoding_format: float}"
    project.write_spec(EMBED.replace("{dimensions: 16}", params))
    first = project.run()
    # Docs 1 and 2 have the same text: one request, the vector written for both.
    assert (first.submitted, first.shared, first.succeeded, first.failed) == (3, 1, 4, 0)
    assert first.input_tokens > 0 and first.output_tokens == 0 and first.cost_usd
    sent = project.emulator.list_batches()[0]
    assert sent["endpoint"] == "/v1/embeddings"

    rows = project.query(f"select doc_id, {TYPEOF[project.warehouse]}(embedding), "
                         "cardinality(embedding) from analytics.doc_vectors_current "
                         "order by doc_id")
    assert rows == [(d[0], VECTOR_TYPE[project.warehouse], 16) for d in DOCS]
    similarity_sql, norm_sql = VECTOR_SQL[project.warehouse]
    pairs = {(a, b): round(s, 5) for a, b, s in project.query(similarity_sql)}
    assert pairs[(1, 2)] == 1.0  # identical texts, identical vectors
    assert len(pairs) == 6 and all(abs(s) < 0.99 for k, s in pairs.items() if k != (1, 2))
    norms = project.query(norm_sql)
    assert len(norms) == 4 and all(abs(n[0] - 1) < 1e-5 for n in norms)  # unit vectors
    if project.warehouse == "duckdb":  # the README's fixed-size form gives the same
        fixed = project.query(
            "select array_cosine_similarity(a.embedding::FLOAT[16], b.embedding::FLOAT[16]), "
            "list_cosine_similarity(a.embedding, b.embedding) from analytics.doc_vectors_current "
            "a, analytics.doc_vectors_current b where a.doc_id < b.doc_id")
        assert all(s1 == s2 for s1, s2 in fixed)

    again = project.run()
    assert (again.selected, again.submitted, again.collected_batches) == (0, 0, 0)
    add_docs(project, [(5, "New", "A new document.")])
    assert (project.run().submitted, project.emulator.stats()["batches_created"]) == (1, 2)


def test_wrong_length_vectors_are_retried(project: Project) -> None:
    add_docs(project, DOCS)
    project.write_spec(EMBED)
    project.emulator.set_faults(Faults(wrong_answer_match="Dark mode",
                                       wrong_answer="[0.5, 0.5]"))
    first = project.run()
    assert first.outcomes == {"succeeded": 3, "invalid_output": 1}
    error = project.query("select _error from analytics.doc_vectors where doc_id = 3")[0][0]
    assert error == "embedding has 2 dimensions, not the 16 asked for"
    project.emulator.set_faults(Faults())
    second = project.run()
    assert (second.selected, second.succeeded) == (1, 1)
    assert project.query("select _attempt, cardinality(embedding) "
                         "from analytics.doc_vectors_current where doc_id = 3") == [(2, 16)]


def test_empty_text_fails_without_being_sent(project: Project) -> None:
    add_docs(project, [*DOCS, (9, None, None)])  # type: ignore[list-item]
    project.write_spec(EMBED.replace('"{{ title }}: {{ body }}"', '"{{ title }}{{ body }}"'))
    summary = project.run()
    # Four rows, three distinct texts (docs 1 and 2 are the same), one empty.
    assert (summary.submitted, summary.succeeded, summary.not_sent) == (3, 4, 1)
    error = project.query("select _error from analytics.doc_vectors where doc_id = 9")[0][0]
    assert error == "template error: the input to embed is empty"
