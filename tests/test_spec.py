"""Spec loading: valid specs, file:line errors with fixes, line_of, output_schema."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from batchsql.errors import SpecError
from batchsql.spec import Spec, line_of, load_spec, output_schema, spec_from_dict


def write(tmp_path: Path, text: str, name: str = "x.yml") -> str:
    """Write a dedented spec whose first line is line 1; return its path as a str."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


def load_error(tmp_path: Path, text: str) -> tuple[SpecError, str]:
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return info.value, path


SIMPLE = """
name: ticket_labels
description: Label support tickets.
source:
  sql: select ticket_id, subject, body from raw.tickets
  key: ticket_id
prompt:
  system: 'You label customer support tickets.'
  user: |
    Subject: {{ subject }}
    {{ body }}
model: gpt-4o-mini
params: {temperature: 0}
output:
  table: analytics.ticket_labels
  columns:
    label: {type: string, enum: [billing, bug, other], description: The queue.}
    confidence: {type: number, required: false, minimum: 0, maximum: 1}
    summary: string
max_attempts: 5
"""

MESSAGES = """
name: chat
source: {table: raw.tickets, key: [ticket_id, version]}
prompt:
  messages:
    - role: system
      content: "You are terse."
    - role: user
      content: >
        Summarise {{ body }}
        in one line.
model: gpt-4o-mini
output: {table: analytics.chat}
"""


# --- valid specs ---------------------------------------------------------------------------

def test_system_user_form(tmp_path: Path) -> None:
    path = write(tmp_path, SIMPLE)
    spec = load_spec(path)
    assert spec.path == path
    assert spec.source.key == ("ticket_id",)  # a single key becomes a one-item tuple
    assert spec.source.table is None
    assert spec.prompt.user == "Subject: {{ subject }}\n{{ body }}\n"
    assert [m.role for m in spec.prompt.templates()] == ["system", "user"]
    assert spec.params == {"temperature": 0}
    assert spec.max_attempts == 5
    columns = spec.output.columns
    assert columns is not None and list(columns) == ["label", "confidence", "summary"]
    assert columns["summary"].type == "string"  # shorthand `summary: string`
    assert columns["label"].enum == ("billing", "bug", "other")
    assert columns["confidence"].required is False


def test_messages_form_and_defaults(tmp_path: Path) -> None:
    spec = load_spec(Path(write(tmp_path, MESSAGES)))
    assert spec.path == str(tmp_path / "x.yml")
    assert spec.source.key == ("ticket_id", "version")
    assert [(m.role, m.content) for m in spec.prompt.templates()] == [
        ("system", "You are terse."), ("user", "Summarise {{ body }} in one line.\n")]
    assert spec.max_attempts == 3 and spec.params == {} and spec.output.columns is None
    assert output_schema(spec) is None


@pytest.mark.parametrize("text", [SIMPLE, MESSAGES])
def test_round_trip(tmp_path: Path, text: str) -> None:
    spec = load_spec(write(tmp_path, text))
    data = spec.model_dump()
    assert "path" not in data
    again = spec_from_dict(data, path="elsewhere.yml")
    assert again.model_dump() == data
    assert again.path == "elsewhere.yml"
    assert line_of(again, "model") is None  # no file, no lines


# --- malformed specs: (yaml, line, message part, hint part) ----------------------------------

MALFORMED = [
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        model: m
        promt: {user: hi}
        output: {table: out.t}
        """, 4, "unknown key 'promt'", "did you mean 'prompt'?", id="unknown-top-level-key"),
    pytest.param("""
        name: t
        source:
          table: raw.t
          key: id
          filter: x > 1
        prompt: {user: hi}
        model: m
        output: {table: out.t}
        """, 5, "unknown key 'filter' in 'source'", "allowed keys: table, sql, key",
        id="unknown-nested-key"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        output: {table: out.t}
        """, 1, "missing required key 'model'", "model: gpt-4o-mini", id="missing-model"),
    pytest.param("""
        name: t
        model: m
        source:
          table: raw.t
        prompt: {user: hi}
        output: {table: out.t}
        """, 3, "missing required key 'key' in 'source'", "key: [ticket_id]",
        id="missing-source-key"),
    pytest.param("""
        name: t
        source:
          table: raw.t
          sql: select * from raw.t
          key: id
        prompt: {user: hi}
        model: m
        output: {table: out.t}
        """, 2, "source: give either 'table' or 'sql', not both", "drop 'sql'",
        id="table-and-sql"),
    pytest.param("""
        name: t
        model: m
        prompt: {user: hi}
        source: {key: id}
        output: {table: out.t}
        """, 4, "source: give one of 'table' or 'sql'", "table: raw.tickets",
        id="neither-table-nor-sql"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: m
        output: {table: out.t}
        max_attempts: three
        """, 6, "'max_attempts' must be an integer, got 'three'", None, id="max-attempts-type"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: m
        output: {table: out.t}
        max_attempts: 0
        """, 6, "'max_attempts' must be at least 1, got 0", None, id="max-attempts-zero"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: m
        max_attempts: yes
        output: {table: out.t}
        """, 5, "'max_attempts' must be an integer, got true", None, id="max-attempts-bool"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: m
        output:
          table: out.t
          columns:
            label: {type: strng}
        """, 8, "'type' must be one of 'string', 'integer', 'number', 'boolean', 'array',"
        " 'object', got 'strng'",
        "did you mean 'string'?", id="bad-column-type"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: m
        output:
          table: out.t
          columns:
            label: integr
        """, 8, "got 'integr'", "did you mean 'integer'?", id="bad-column-type-shorthand"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: m
        output:
          table: out.t
          columns:
            stars:
              type: integer
              enum: [one, two]
        """, 10, "output.columns.stars: 'enum' is only allowed on columns of type 'string'",
        "use 'type: string'", id="enum-on-integer"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt:
          messages:
            - role: system
              content: Be brief.
            - role: usr
              content: "{{ body }}"
        model: m
        output: {table: out.t}
        """, 7, "'role' must be one of 'system', 'developer', 'user', 'assistant', got 'usr'",
        "did you mean 'user'?", id="bad-role"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt:
          user: hi
          messages:
            - {role: user, content: hi}
        model: m
        output: {table: out.t}
        """, 5, "prompt: use either 'system'/'user' or 'messages', not both", "into 'messages'",
        id="prompt-both-forms"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {system: hi}
        model: m
        output: {table: out.t}
        """, 3, "prompt: 'user' is required (or give 'messages')", None, id="prompt-no-user"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt:
          user: "unclosed
        model: m
        """, 4, "invalid YAML: found unexpected end of stream while scanning a quoted scalar",
        "close the quote", id="yaml-unclosed-quote"),
    pytest.param("""
        name: t
        source:
          table: raw.t
         key: id
        """, 4, "invalid YAML: expected <block end>", "indentation", id="yaml-indentation"),
    pytest.param("""
        name: t
        model: gpt: 4o
        """, 2, "invalid YAML: mapping values are not allowed here", "quote a value",
        id="yaml-colon-in-value"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: m
        output: {table: out.t}
        model: n
        """, 6, "duplicate key 'model' (first on line 4)", "remove one of them",
        id="duplicate-key"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: [id, id2]}
        prompt: {user: hi}
        model: m
        output:
          table: out.t
          columns: {a: string, a: integer}
        """, 7, "duplicate key 'a' (first on line 7)", None, id="duplicate-nested-key"),
    pytest.param("""
        name: t
        ---
        name: u
        """, 2, "a second YAML document starts here", "remove the '---' line",
        id="two-documents"),
    pytest.param("", None, "the spec is empty", "name, source, prompt, model, output",
                 id="empty-file"),
    pytest.param("""
        # only a comment
        """, None, "the spec is empty", None, id="comment-only"),
    pytest.param("""
        # a list is not a spec
        - name: t
        """, 2, "a spec must be a mapping of keys to values, got a list", None,
        id="top-level-list"),
    pytest.param("""
        just text
        """, 1, "got 'just text'", None, id="top-level-scalar"),
    pytest.param("""
        name: ticket-labels
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: m
        output: {table: out.t}
        """, 1, "name: 'ticket-labels' is not a valid name: start with a letter or underscore",
        "e.g. 'ticket_labels'", id="bad-name"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: 4
        output: {table: out.t}
        """, 4, "'model' must be a string, got 4", "quote it", id="model-not-string"),
    pytest.param("""
        name: t
        source: raw.t
        prompt: {user: hi}
        model: m
        output: {table: out.t}
        """, 2, "'source' must be a mapping, got 'raw.t'", "expected keys: table, sql, key",
        id="source-not-mapping"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: []}
        prompt: {user: hi}
        model: m
        output: {table: out.t}
        """, 2, "'key' must not be empty", None, id="empty-key"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: m
        output:
          table: out.t
          columns:
            _status: string
        """, 8, "column name '_status' must start with a letter", "e.g. 'status'",
        id="reserved-column-name"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: m
        output:
          table: out.t
          columns: {id: integer}
        """, 7, "output column 'id' has the name of a key column", "rename",
        id="column-shadows-key"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: m
        output: {table: out.t}
        path: other.yml
        """, 6, "unknown key 'path'", None, id="path-is-not-a-spec-key"),
    pytest.param("""
        name: t
        source: {table: raw.t, key: id}
        prompt: {user: hi}
        model: m
        output: {table: out.t}
        params:
          1: x
        """, 7, "key 1 in 'params' must be text", "quote it", id="non-text-key"),
    pytest.param("""
        name: t
        base: &base {table: raw.t}
        source:
          <<: *base
          key: id
        """, 4, "merge keys ('<<') are not supported", None, id="merge-key"),
]


@pytest.mark.parametrize(("text", "line", "message", "hint"), MALFORMED)
def test_malformed(tmp_path: Path, text: str, line: int | None, message: str,
                   hint: str | None) -> None:
    err, path = load_error(tmp_path, text)
    assert err.path == path
    assert err.line == line
    where = f"{path}:{line}: " if line else f"{path}: "
    assert str(err).startswith(where), str(err)
    assert message in err.message, err.message
    if hint is not None:
        assert err.hint is not None and hint in err.hint, err.hint


def test_single_error_reads_as_one_line(tmp_path: Path) -> None:
    err, path = load_error(tmp_path, """
        name: t
        source: {table: raw.t, key: id}
        model: m
        promt: {user: hi}
        output: {table: out.t}
        """)
    # The missing 'prompt' is not reported: the did-you-mean already says it.
    assert str(err) == f"{path}:4: unknown key 'promt' (did you mean 'prompt'?)"


def test_several_errors_one_per_line_in_file_order(tmp_path: Path) -> None:
    err, path = load_error(tmp_path, """
        name: t
        source: {tabel: raw.t, key: id}
        prompt: {user: hi}
        model: m
        output: {table: out.t}
        max_attempts: many
        """)
    assert str(err).splitlines() == [
        f"{path}:2: unknown key 'tabel' in 'source' (did you mean 'table'?)",
        f"{path}:6: 'max_attempts' must be an integer, got 'many'",
    ]
    assert err.line == 2


def test_syntax_error_hint_for_tabs(tmp_path: Path) -> None:
    err, _ = load_error(tmp_path, "name: t\nsource:\n\ttable: x\n")
    assert err.line == 3 and err.hint == "indent with spaces, not tabs"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"nope\.yml: cannot read the spec"):
        load_spec(tmp_path / "nope.yml")


def test_spec_from_dict_errors_have_no_lines() -> None:
    with pytest.raises(SpecError) as info:
        spec_from_dict({"name": "t", "source": {"table": "t", "key": "id"}, "model": "m",
                        "prompt": {"user": "hi"}, "output": {"table": "o"}, "max_attemps": 2})
    assert str(info.value) == "unknown key 'max_attemps' (did you mean 'max_attempts'?)"
    with pytest.raises(SpecError, match=r"^m\.yml: a spec must be a mapping"):
        spec_from_dict(["not", "a", "dict"], path="m.yml")  # type: ignore[arg-type]


# --- line_of -------------------------------------------------------------------------------

def test_line_of(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, SIMPLE))
    assert line_of(spec, "name") == 1
    assert line_of(spec, "source") == 3  # a nested mapping begins at its key
    assert line_of(spec, "source", "sql") == 4  # plain scalar
    assert line_of(spec, "prompt", "system") == 7  # quoted scalar
    assert line_of(spec, "prompt", "user") == 9  # block scalar: first text line, not the `|`
    assert line_of(spec, "output", "columns", "label", "enum", 1) == 16
    assert line_of(spec, "max_attempts") == 19
    assert line_of(spec, "nothing", "here") is None
    assert line_of(spec, "output", "columns", "summary", "type") is None  # only implied

    spec = load_spec(write(tmp_path, MESSAGES))
    assert line_of(spec, "prompt", "messages", 0, "content") == 6  # double-quoted
    assert line_of(spec, "prompt", "messages", 1, "role") == 7
    assert line_of(spec, "prompt", "messages", 1, "content") == 9  # folded block scalar


def test_line_of_adds_up_for_template_lines(tmp_path: Path) -> None:
    # prompts.py maps a template's line n to line_of(...) + n - 1.
    path = write(tmp_path, SIMPLE)
    spec = load_spec(path)
    file_lines = Path(path).read_text().splitlines()
    first = line_of(spec, "prompt", "user")
    assert first is not None
    for n, template_line in enumerate(spec.prompt.user.splitlines(), start=1):  # type: ignore[union-attr]
        assert file_lines[first + n - 2].strip() == template_line


def test_spec_stays_frozen(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, SIMPLE))
    with pytest.raises(ValueError, match="frozen"):
        spec.model = "other"  # type: ignore[misc]
    assert isinstance(spec, Spec)


# --- output_schema -------------------------------------------------------------------------

def test_output_schema(tmp_path: Path) -> None:
    schema = output_schema(load_spec(write(tmp_path, SIMPLE)))
    assert schema == {
        "type": "object",
        "properties": {
            "label": {"type": "string", "enum": ["billing", "bug", "other"],
                      "description": "The queue."},
            "confidence": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            "summary": {"type": "string"},
        },
        "required": ["label", "confidence", "summary"],
        "additionalProperties": False,
    }
    assert list(schema["properties"]) == ["label", "confidence", "summary"]


def test_output_schema_optional_enum_admits_null() -> None:
    spec = spec_from_dict({
        "name": "t", "source": {"table": "t", "key": "id"}, "prompt": {"user": "hi"},
        "model": "m", "output": {"table": "o", "columns": {
            "flag": "boolean",
            "tier": {"enum": ["a", "b"], "required": False},
            "n": {"type": "integer", "minimum": 0.5},
        }},
    })
    assert output_schema(spec) == {
        "type": "object",
        "properties": {
            "flag": {"type": "boolean"},
            "tier": {"type": ["string", "null"], "enum": ["a", "b", None]},
            "n": {"type": "integer", "minimum": 0.5},
        },
        "required": ["flag", "tier", "n"],
        "additionalProperties": False,
    }


@pytest.mark.parametrize(("param", "fix"), [
    ("model: gpt-4o", "top-level 'model'"),
    ("response_format: {type: json_object}", "output.columns"),
    ("stream: true", "does not stream"),
    ("n: 3", "remove 'n'"),
])
def test_params_batchsql_owns_are_refused(tmp_path: Path, param: str, fix: str) -> None:
    text = SIMPLE.replace("params: {temperature: 0}\n", f"params:\n  {param}\n")
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    line = text.lstrip("\n").splitlines().index(f"  {param}") + 1
    assert f"{path}:{line}:" in str(info.value) and fix in str(info.value)
