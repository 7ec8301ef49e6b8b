"""YAML -> validated spec.

The models below are the contract the rest of batchsql reads; `load_spec` turns a YAML file into
one, and every error it raises names file:line and, where one applies, a fix.
"""

from __future__ import annotations

import difflib
import os
import re
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator
from sqlglot.dialects.dialect import Dialects

from batchsql import yamlnodes
from batchsql.columns import (
    Column,
    ColumnType,
    check_limits,
    check_names,
    object_schema,
    shorthand_map,
    suggest_name,
)
from batchsql.columns import Strict as _Strict
from batchsql.errors import SpecError
from batchsql.yamlnodes import rule as _rule

__all__ = ["Column", "ColumnType", "Message", "Output", "Prompt", "Source", "Spec",
           "answer_kind", "line_of", "load_spec", "output_schema", "spec_from_dict"]

Role = Literal["system", "developer", "user", "assistant"]
Endpoint = Literal["chat", "embeddings"]
AnswerKind = Literal["text", "json", "columns", "embedding"]
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: What an embeddings request takes besides model and input.
EMBEDDING_PARAMS = ("dimensions", "encoding_format", "user")


class Source(_Strict):
    """Where the rows come from: a table name or any SELECT the warehouse runs.

    ``dialect``: the SQL dialect ``sql`` (or ``table``) is written in, when it is not the
    warehouse's own; batchsql transpiles it (sqlglot's dialect names: postgres, snowflake, ...).
    """

    table: str | None = None
    sql: str | None = None
    key: tuple[str, ...] = Field(min_length=1)
    dialect: str | None = None

    @field_validator("dialect")
    @classmethod
    def _known_dialect(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().lower()
        known = sql_dialects()
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            raise _rule(f"unknown SQL dialect {value!r}",
                        f"did you mean '{close[0]}'?" if close else
                        f"use one of {', '.join(known)}")
        return name

    @field_validator("key", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, (list, tuple)):
            raise _rule(f"expected a column name or a list of them, got {yamlnodes.show(value)}",
                        "e.g. 'key: ticket_id' or 'key: [ticket_id]'")
        return value

    @model_validator(mode="after")
    def _table_xor_sql(self) -> Source:
        if self.table is not None and self.sql is not None:
            raise _rule("give either 'table' or 'sql', not both",
                        "keep 'sql' and put the table in its FROM clause, or drop 'sql'")
        if self.table is None and self.sql is None:
            raise _rule("give one of 'table' or 'sql'",
                        "e.g. 'table: raw.tickets' or 'sql: select ... from raw.tickets'")
        return self


class Message(_Strict):
    role: Role
    content: str


class Prompt(_Strict):
    """Chat: `system` + `user` templates, or `messages` (each content a template).

    Embeddings: one `input` template, the text to embed.
    """

    system: str | None = None
    user: str | None = None
    messages: tuple[Message, ...] | None = None
    input: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Prompt:
        chat = [k for k in ("system", "user", "messages") if getattr(self, k) is not None]
        if self.input is not None:
            if chat:
                raise _rule(f"use either 'input' (embeddings) or '{chat[0]}' (chat), not both",
                            "'input' is the text to embed, with 'endpoint: embeddings'; drop"
                            " one of them", ("input",))
            return self
        if self.messages is not None and (self.system is not None or self.user is not None):
            raise _rule("use either 'system'/'user' or 'messages', not both",
                        "move the system and user text into 'messages' entries", ("messages",))
        if self.messages is None and self.user is None:
            raise _rule("'user' is required (or give 'messages')",
                        "e.g. 'user: Label this ticket: {{ body }}'")
        if self.messages is not None and not self.messages:
            raise _rule("'messages' must not be empty", "list at least one {role, content}",
                        ("messages",))
        return self

    def templates(self) -> tuple[Message, ...]:
        """A chat prompt as an ordered list of (role, template) messages; none for `input`."""
        if self.messages is not None:
            return self.messages
        if self.input is not None:
            return ()
        out = []
        if self.system is not None:
            out.append(Message(role="system", content=self.system))
        out.append(Message(role="user", content=self.user or ""))
        return tuple(out)


class Output(_Strict):
    """Where answers go: `columns` for typed JSON answers, `format: json` for a JSON object."""

    table: str
    columns: dict[str, Column] | None = None
    format: Literal["text", "json"] | None = None
    #: Which outcomes keep their raw result line in `_raw`: a succeeded answer is already in
    #: its columns, and keeping every line doubles what the output table stores.
    keep_raw: Literal["failures", "all", "none"] = "failures"

    _columns = field_validator("columns", mode="before")(shorthand_map)

    @model_validator(mode="after")
    def _columns_fit(self) -> Output:
        if self.columns is None:
            return self
        if not self.columns:
            raise _rule("'columns' must declare at least one column",
                        "drop 'columns' to store the answer text", ("columns",))
        if self.format == "text":
            raise _rule("'format: text' cannot have columns: typed columns are read from a JSON"
                        " answer", "drop 'format' (or write 'format: json')", ("format",))
        check_names(self.columns, "columns")
        check_limits(self.columns)
        return self


class Spec(_Strict):
    """One AI model: rows from `source`, a request per row from `prompt`, answers to `output`."""

    name: str
    description: str | None = None
    source: Source
    prompt: Prompt
    model: str
    endpoint: Endpoint = "chat"
    params: dict[str, Any] = Field(default_factory=dict)
    output: Output
    # strict: YAML reads `yes` as true, which lax pydantic would take for 1.
    max_attempts: int = Field(default=3, ge=1, le=100, strict=True)
    #: Per run: submission stops before the estimated cost of what it sent would pass this.
    max_cost_usd: float | None = Field(default=None, gt=0)
    #: Send identical requests once, and reuse answers collected earlier for the same request.
    dedup: bool = Field(default=True, strict=True)
    # Set by load_spec: the file the spec came from (for messages) and its folder (for paths).
    path: str | None = Field(default=None, exclude=True)
    _lines: dict[tuple[Any, ...], int] = PrivateAttr(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _NAME.match(value):
            raise _rule(f"{value!r} is not a valid name: start with a letter or underscore, then"
                        " use only letters, digits and underscores", suggest_name(value))
        return value

    @model_validator(mode="after")
    def _parts_agree(self) -> Spec:
        if self.endpoint == "embeddings":
            _check_embeddings(self)
        elif self.prompt.input is not None:
            raise _rule("'input' is the text to embed, for 'endpoint: embeddings' only",
                        "add 'endpoint: embeddings', or write the chat prompt as 'user: ...'",
                        ("prompt", "input"))
        else:
            _check_chat_params(self)
            if answer_kind(self) == "json":
                _check_json_word(self)
        for name in self.output.columns or {}:
            if name in self.source.key:
                raise _rule(f"output column {name!r} has the name of a key column",
                            "rename the output column; key columns are copied to the output"
                            " table as they are", ("output", "columns", name))
        if self.output.columns is None:
            value = "embedding" if self.endpoint == "embeddings" else "answer"
            if value in self.source.key:
                raise _rule(f"key column {value!r} has the name of the column the answer goes to",
                            f"rename it in the source, e.g. 'select {value} as {value}_id'",
                            ("source", "key"))
        return self


def sql_dialects() -> list[str]:
    """The dialect names ``source.dialect`` accepts: sqlglot's."""
    return sorted(d.value for d in Dialects if d.value)


def answer_kind(spec: Spec) -> AnswerKind:
    """What an answer is: free text, a JSON object, typed columns, or an embedding vector."""
    if spec.endpoint == "embeddings":
        return "embedding"
    if spec.output.columns:
        return "columns"
    return "json" if spec.output.format == "json" else "text"


def _check_embeddings(spec: Spec) -> None:
    if spec.prompt.input is None:
        chat = next(k for k in ("messages", "user", "system")
                    if getattr(spec.prompt, k) is not None)
        raise _rule("'endpoint: embeddings' takes the text to embed as 'input', not"
                    f" '{chat}'", "e.g. 'prompt: {input: \"{{ subject }}: {{ body }}\"}'",
                    ("prompt", chat))
    for key in ("columns", "format"):
        if getattr(spec.output, key) is not None:
            raise _rule(f"'output.{key}' does not apply to embeddings: each vector is stored in"
                        " the 'embedding' column", f"drop '{key}'", ("output", key))
    for name, value in spec.params.items():
        if name not in EMBEDDING_PARAMS:
            raise _rule(f"'{name}' is not a parameter of embeddings requests",
                        f"remove it; embeddings take {', '.join(EMBEDDING_PARAMS)}",
                        ("params", name))
        if name == "dimensions" and (type(value) is not int or value < 1):
            raise _rule(f"'dimensions' must be a whole number of at least 1, got"
                        f" {yamlnodes.show(value)}", "e.g. 'dimensions: 256'",
                        ("params", name))
        if name == "encoding_format" and value not in ("float", "base64"):
            raise _rule(f"'encoding_format' must be 'float' or 'base64', got"
                        f" {yamlnodes.show(value)}", "drop it: base64 is the default (smaller"
                        " result files)", ("params", name))


#: Chat params batchsql writes itself, and why a spec may not set them.
_OWNED_PARAMS = {
    "model": "set the top-level 'model' instead",
    "messages": "write them under 'prompt'",
    "response_format": "declare 'output.columns' (or 'output.format: json') instead",
    "stream": "the Batch API does not stream; remove it",
}


def _check_chat_params(spec: Spec) -> None:
    for name, value in spec.params.items():
        if name in _OWNED_PARAMS:
            raise _rule(f"'{name}' is set by batchsql, not in params", _OWNED_PARAMS[name],
                        ("params", name))
        if name == "n" and value != 1:
            # Only the first choice is read: the others would be paid for and thrown away.
            raise _rule(f"'n: {yamlnodes.show(value)}' asks for several answers per row, and"
                        " batchsql keeps one", "remove 'n'", ("params", name))


def _check_json_word(spec: Spec) -> None:
    # OpenAI refuses a json_object request whose messages never mention JSON: every row would
    # fail, so say it before anything is sent.
    messages = spec.prompt.templates()
    if any("json" in m.content.lower() for m in messages):
        return
    if spec.prompt.messages is not None:
        users = [i for i, m in enumerate(messages) if m.role == "user"]
        at: tuple[Any, ...] = ("prompt", "messages", users[-1] if users else 0, "content")
    else:
        at = ("prompt", "user")
    raise _rule("'format: json' needs the word JSON in the prompt: OpenAI refuses JSON-mode"
                " requests whose messages do not mention it",
                "ask for it in the prompt, e.g. 'Answer with a JSON object.'", at)


def load_spec(path: str | os.PathLike[str]) -> Spec:
    """Read, parse and validate a spec file; every problem is a SpecError naming file:line."""
    shown = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise SpecError(f"cannot read the spec: {exc.strerror}", path=shown) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError("the spec is not UTF-8 text", path=shown,
                        line=raw[: exc.start].count(b"\n") + 1) from None
    doc = yamlnodes.parse(text, shown)
    if doc.data is None:
        raise SpecError("the spec is empty", path=shown, line=doc.root_line,
                        hint=f"a spec is a mapping with at least {_required_keys()}")
    spec = _validate(doc.data, shown, doc)
    spec._lines = doc.lines
    return spec


def spec_from_dict(data: dict[str, Any], path: str | None = None) -> Spec:
    """Validate a spec given as Python data; errors read like load_spec's, without lines."""
    return _validate(data, path, yamlnodes.Document(data))


def line_of(spec: Spec, *path: str | int) -> int | None:
    """1-based file line where the value at `path` begins (a block scalar: its first text line).

    A nested mapping or list begins at its key. None when the value was not written in a file.
    """
    return spec._lines.get(path)


def output_schema(spec: Spec) -> dict[str, Any] | None:
    """Strict JSON Schema (OpenAI structured outputs) for the output columns, or None."""
    if not spec.output.columns:
        return None
    return object_schema(spec.output.columns)


# What to suggest when a required key is missing.
_EXAMPLES = {
    "name": "name: ticket_labels", "source": "source: {table: raw.tickets, key: [id]}",
    "key": "key: [ticket_id]", "prompt": 'prompt: {user: "{{ body }}"}',
    "model": "model: gpt-4o-mini", "output": "output: {table: analytics.ticket_labels}",
    "table": "table: analytics.ticket_labels", "role": "role: user",
    "content": 'content: "{{ body }}"',
}


def _validate(data: Any, path: str | None, doc: yamlnodes.Document) -> Spec:
    if not isinstance(data, dict):
        raise SpecError(f"a spec must be a mapping of keys to values, got {yamlnodes.show(data)}",
                        path=path, line=doc.root_line, hint=f"start with {_required_keys()}")
    errors: list[Any] = []
    if "path" in data:  # filled in from the file name, never written in a spec
        errors.append({"type": "extra_forbidden", "loc": ("path",), "input": data["path"]})
    try:
        spec = Spec.model_validate({**data, "path": path})
    except ValidationError as exc:
        errors += exc.errors()
    if errors:
        raise yamlnodes.located_error(errors, doc, Spec, path, _EXAMPLES) from None
    return spec


def _required_keys() -> str:
    return ", ".join(n for n, f in Spec.model_fields.items() if f.is_required())

