"""Render simple prompts in SQL: request bodies and fingerprints for a whole Arrow slice at once.

The reference is the Python path (``Prompt.render`` -> ``plan.build_body`` -> ``canonical_json``
-> ``plan.fingerprint``, one row at a time). For a prompt whose templates are plain text,
``{{ column }}`` and a few filters, one DuckDB query per slice renders each message content and
JSON-escapes it. The body is built once in Python with a sentinel in place of each rendered
content and its canonical JSON cut around the sentinels; Arrow joins those constant pieces with
the escaped contents, and hashlib hashes the bodies (DuckDB's concat and sha256 measured several
times slower, see bench/render_sql_micro.py).

``compile_renderer`` returns None when a template or a column type is outside what is proven to
match; the caller renders every row with Jinja then. Within a slice, a row whose exact result
depends on something SQL does not reproduce (non-ASCII text into upper/lower, a blank text to
embed, a date Python cannot represent) comes back with ``_python`` true, to be rendered with Jinja.

Supported, and checked byte for byte against Jinja by tests/test_render_sql.py:

* template text (with Jinja's whitespace control and trailing-newline rule, which the lexer has
  already applied to the tree), ``{{ column }}``, and what Jinja folds to a constant
  (``{{ 'text' }}``, ``{{ 1.5 }}``, ``{{ 'a'|upper }}``), rendered here by Python;
* filters ``upper``, ``lower`` (ASCII input; other rows are flagged), ``trim`` (optionally with
  constant characters), ``replace('old', 'new')`` (constant, non-empty ``old``, no count),
  ``string``, ``default``/``d`` (constant text, optional constant ``boolean``), and ``e``/``escape``
  as the last filter of an expression;
* column types: (large) strings, integers, bool, date32/date64, naive timestamps in s/ms/us,
  decimal128 with a scale from 0 to 6. Floats are not supported: Python's ``repr`` of a float
  (``1e+16``, ``-0.0``) is not what DuckDB prints.

JSON escaping is DuckDB's ``to_json``, which matches ``json.dumps(ensure_ascii=False)`` except
for the hex case of some control characters; the rare contents whose JSON has a ``\\u00``
escape are re-encoded in Python.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import jinja2.filters
import markupsafe
import pyarrow as pa
import pyarrow.compute as pc
from jinja2 import nodes

from batchsql import plan
from batchsql.prompts import Prompt, Template, _finalize
from batchsql.spec import Spec

#: Every character ``str.isspace`` accepts: what ``str.strip()`` removes (``trim`` and the blank
#: check of a text to embed). Spelled out so importing is cheap; a test recomputes it.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
              "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

#: Names Jinja resolves before the row's own variables (or that Renderer does not pass).
_RESERVED = frozenset({"self", "loop", "super", "caller", "varargs", "kwargs"})

#: The SQL name the slice is registered under in the renderer's private connection.
_SOURCE = "batchsql_render_source"

#: Rows per Arrow chunk of a result (see SqlRenderer.render).
_ROWS_PER_CHUNK = 16_384
#: Rows per record batch DuckDB scans: one batch is scanned by one thread.
_ROWS_PER_SCAN = 8_192

RESULT_SCHEMA = pa.schema([("_fingerprint", pa.string()), ("_body", pa.string()),
                          ("_python", pa.bool_())])


@dataclass(frozen=True)
class _Expr:
    """A template expression in SQL: VARCHAR ``str()`` of its value, NULL where it is None."""

    sql: str
    #: The Python type of the value ("str", "int", "bool", "decimal", "date", "datetime"), or
    #: "truthy" for a value that never tests false: decides what ``default(..., true)`` replaces.
    kind: str
    #: Whether the text is ASCII whatever the row (numbers, dates): no casing risk.
    ascii: bool
    #: SQL conditions, each true where this row's result is not vouched for.
    risks: tuple[str, ...] = ()
    #: markupsafe.Markup: filters after ``escape`` behave differently, so none may follow.
    markup: bool = False
    nullable: bool = True


class _Unsupported(Exception):
    """The template (or a column it reads) is outside the SQL subset."""


class _Params:
    """Query parameters: constant text goes in as values, never spliced into the SQL."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def _year_risk(col: str) -> str:
    # Python's date and datetime hold years 1..9999 only (to_pylist fails on the rest); DuckDB
    # prints others (and infinity) its own way, so such a row is left to Python.
    return f"({col} IS NOT NULL AND coalesce(year({col}) NOT BETWEEN 1 AND 9999, true))"


def _column(name: str, col: str, dtype: pa.DataType) -> _Expr:
    """``str()`` of the value ``to_pylist()`` gives for a column of this Arrow type (SQL: col)."""
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return _Expr(col, "str", ascii=False)
    if pa.types.is_integer(dtype):
        return _Expr(f"CAST({col} AS VARCHAR)", "int", ascii=True)
    if pa.types.is_boolean(dtype):
        return _Expr(f"CASE {col} WHEN true THEN 'True' WHEN false THEN 'False' END", "bool",
                     ascii=True)
    if pa.types.is_date32(dtype) or pa.types.is_date64(dtype):
        return _Expr(f"strftime(CAST({col} AS DATE), '%Y-%m-%d')", "date", ascii=True,
                     risks=(_year_risk(col),))
    if pa.types.is_timestamp(dtype) and dtype.tz is None and dtype.unit in ("s", "ms", "us"):
        # str(datetime) shows microseconds only when there are some.
        ts = f"CAST({col} AS TIMESTAMP)"
        text = (f"CASE WHEN microsecond({ts}) % 1000000 = 0"
                f" THEN strftime({ts}, '%Y-%m-%d %H:%M:%S')"
                f" ELSE strftime({ts}, '%Y-%m-%d %H:%M:%S.%f') END")
        return _Expr(text, "datetime", ascii=True, risks=(_year_risk(col),))
    if pa.types.is_decimal128(dtype) and 0 <= dtype.scale <= 6:
        # str(Decimal) turns to exponent notation only below 1e-6 of the last digit, so with a
        # scale of at most 6 it is the plain digits DuckDB prints.
        return _Expr(f"CAST({col} AS VARCHAR)", "decimal", ascii=True)
    raise _Unsupported(f"column {name!r} has type {dtype}")


def _falsy(expr: _Expr) -> str:
    """SQL: the non-NULL value is falsy in Python (the ``boolean`` test of ``default``)."""
    if expr.kind == "str":
        return f"{expr.sql} = ''"
    if expr.kind == "int":
        return f"{expr.sql} = '0'"
    if expr.kind == "bool":
        return f"{expr.sql} = 'False'"
    if expr.kind == "decimal":
        return f"NOT regexp_matches({expr.sql}, '[1-9]')"
    if expr.kind in ("date", "datetime", "truthy"):
        return "false"
    raise _Unsupported(f"truthiness of {expr.kind}")


def _text(expr: _Expr) -> str:
    """SQL: ``str(value)`` with None as "None", as filters that call ``str()`` see it."""
    return f"coalesce({expr.sql}, 'None')" if expr.nullable else expr.sql


def _const_str(node: nodes.Expr, what: str) -> str:
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return node.value
    raise _Unsupported(f"{what} must be constant text")


def _bind(node: nodes.Filter, names: tuple[str, ...]) -> dict[str, nodes.Expr]:
    """The filter's arguments by parameter name (after the value): positional, then keyword."""
    if node.dyn_args is not None or node.dyn_kwargs is not None or len(node.args) > len(names):
        raise _Unsupported(f"arguments of '{node.name}'")
    bound = dict(zip(names, node.args, strict=False))
    for keyword in node.kwargs:
        if keyword.key not in names or keyword.key in bound:
            raise _Unsupported(f"argument {keyword.key!r} of '{node.name}'")
        bound[keyword.key] = keyword.value
    return bound


def _upper_lower(sql_function: str) -> Callable[[_Expr, nodes.Filter, _Params], _Expr]:
    def apply(expr: _Expr, node: nodes.Filter, params: _Params) -> _Expr:
        _bind(node, ())
        text = _text(expr)
        # Python's Unicode casing (full mappings such as ß -> SS, its own Unicode version) is
        # not DuckDB's; on ASCII both change exactly a-z / A-Z.
        risks = expr.risks if expr.ascii else (*expr.risks, f"strlen({text}) <> length({text})")
        return _Expr(f"{sql_function}({text})", "str", expr.ascii, risks, nullable=False)
    return apply


def _trim(expr: _Expr, node: nodes.Filter, params: _Params) -> _Expr:
    chars = _bind(node, ("chars",)).get("chars")
    if chars is None or (isinstance(chars, nodes.Const) and chars.value is None):
        text = WHITESPACE
    else:
        text = _const_str(chars, "trim's characters")
    # DuckDB's trim(s, chars) removes any of the characters (code points) from both ends, as
    # str.strip(chars) does; with every isspace character it is str.strip().
    return _Expr(f"trim({_text(expr)}, {params(text)})", "str", expr.ascii, expr.risks,
                 nullable=False)


def _replace(expr: _Expr, node: nodes.Filter, params: _Params) -> _Expr:
    args = _bind(node, ("old", "new", "count"))
    if "old" not in args or "new" not in args:
        raise _Unsupported("replace needs old and new")
    count = args.get("count")
    if count is not None and not (isinstance(count, nodes.Const) and count.value is None):
        raise _Unsupported("replace with a count")
    old, new = _const_str(args["old"], "replace's old"), _const_str(args["new"], "replace's new")
    if not old:
        # Python inserts `new` between every character; DuckDB leaves the text alone.
        raise _Unsupported("replace of the empty string")
    # Both scan left to right for non-overlapping matches; on valid UTF-8, bytes matching is
    # code points matching.
    return _Expr(f"replace({_text(expr)}, {params(old)}, {params(new)})", "str",
                 expr.ascii and new.isascii(), expr.risks, nullable=False)


def _string(expr: _Expr, node: nodes.Filter, params: _Params) -> _Expr:
    _bind(node, ())
    # The value is text from here on: "0" and "False" are truthy.
    return _Expr(_text(expr), "str", expr.ascii, expr.risks, nullable=False)


def _default(expr: _Expr, node: nodes.Filter, params: _Params) -> _Expr:
    args = _bind(node, ("default_value", "boolean"))
    value = _const_str(args["default_value"], "default's value") if "default_value" in args else ""
    boolean = args.get("boolean")
    if boolean is not None and not (isinstance(boolean, nodes.Const)
                                    and isinstance(boolean.value, bool)):
        raise _Unsupported("default's boolean must be true or false")
    if boolean is None or not boolean.value:
        # Every column is defined (None is a value, not Undefined): `default` passes it on.
        return expr
    test = f"{expr.sql} IS NULL OR {_falsy(expr)}" if expr.nullable else _falsy(expr)
    # What is left is truthy, or the default: text, false only when empty.
    kind = "str" if not value else "truthy"
    return _Expr(f"CASE WHEN {test} THEN {params(value)} ELSE {expr.sql} END", kind,
                 expr.ascii and value.isascii(), expr.risks, nullable=False)


def _escape(expr: _Expr, node: nodes.Filter, params: _Params) -> _Expr:
    _bind(node, ())
    # markupsafe.escape: str(value) (None -> "None"), & first, then > < ' ".
    text = _text(expr)
    for old, new in (("&", "&amp;"), (">", "&gt;"), ("<", "&lt;"), ("'", "&#39;"),
                     ('"', "&#34;")):
        text = f"replace({text}, '{old.replace(chr(39), chr(39) * 2)}', '{new}')"
    return _Expr(text, "str", expr.ascii, expr.risks, markup=True, nullable=False)


#: Filter name -> (the Jinja function it must be, its SQL translation).
_FILTERS: dict[str, tuple[Any, Callable[[_Expr, nodes.Filter, _Params], _Expr]]] = {
    "upper": (jinja2.filters.do_upper, _upper_lower("upper")),
    "lower": (jinja2.filters.do_lower, _upper_lower("lower")),
    "trim": (jinja2.filters.do_trim, _trim),
    "replace": (jinja2.filters.do_replace, _replace),
    "string": (jinja2.filters.soft_str, _string),
    "default": (jinja2.filters.do_default, _default),
    "d": (jinja2.filters.do_default, _default),
    "e": (markupsafe.escape, _escape),
    "escape": (markupsafe.escape, _escape),
}


@dataclass
class _Compiler:
    env: Any
    schema: pa.Schema
    params: _Params
    #: Column name -> the name the query reads it by. DuckDB matches identifiers regardless of
    #: case (``Body`` and ``body`` would clash), so the query sees the columns as _s0, _s1, ...
    columns: dict[str, str]

    def expr(self, node: nodes.Expr) -> _Expr:
        if isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name in _RESERVED or node.name in self.env.globals:
                raise _Unsupported(f"'{node.name}' is a Jinja name")
            index = self.schema.get_field_index(node.name)
            if index < 0:
                raise _Unsupported(f"'{node.name}' is not a single column of the source")
            alias = self.columns.setdefault(node.name, f"_s{len(self.columns)}")
            return _column(node.name, alias, self.schema.field(index).type)
        if isinstance(node, nodes.Filter) and node.node is not None:
            inner = self.expr(node.node)
            if inner.markup:
                raise _Unsupported("a filter after escape")
            expected, translate = _FILTERS.get(node.name, (None, None))
            if translate is None or self.env.filters.get(node.name) is not expected:
                raise _Unsupported(f"filter '{node.name}'")
            return translate(inner, node, self.params)
        raise _Unsupported(f"expression {type(node).__name__}")

    def template(self, ast: nodes.Template) -> list[str | _Expr]:
        """The pieces of one template's output (constant text or expressions)."""
        pieces: list[str | _Expr] = []
        for output in ast.body:
            if not isinstance(output, nodes.Output):
                raise _Unsupported(f"statement {type(output).__name__}")
            for child in output.nodes:
                if isinstance(child, nodes.TemplateData):
                    pieces.append(child.data)  # the lexer has applied whitespace control
                    continue
                try:
                    # What Jinja's code generator folds at compile time (constants, filters
                    # of constants) it writes as str(finalize(value)) for every row.
                    value = child.as_const(nodes.EvalContext(self.env))
                except nodes.Impossible:
                    pieces.append(self.expr(child))
                except Exception as e:
                    raise _Unsupported("a constant Jinja does not fold") from e
                else:
                    pieces.append(str(_finalize(value)))
        return pieces


class SqlRenderer:
    """Renders Arrow slices of source rows in a private in-process DuckDB (see the module doc).

    One renderer per thread: it owns a DuckDB connection. Close it (or use ``with``) when done.
    """

    def __init__(self, query: str, params: dict[str, str],
                 columns: dict[str, tuple[str, pa.DataType]], texts: list[str], url: str) -> None:
        self._query = query
        self._params = params
        self._columns = columns
        #: The body's constant JSON around the dynamic contents (one more piece than them).
        self._texts = texts
        self._url = url
        # Results must come back in the slice's row order (DuckDB's default, said explicitly).
        # One thread: a slice is small and renders beside the slice before it (see
        # runner.source), so more would cost scheduling, not buy time (1M rows: 0.7 CPU s and
        # 0.5 s less of rendering).
        self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(
            config={"preserve_insertion_order": True, "threads": 1})

    def render(self, batch: pa.RecordBatch | pa.Table) -> pa.Table:
        """``_fingerprint``, ``_body`` and ``_python`` for each row, in the rows' order."""
        body, python = self.bodies(batch)
        return pa.table([self.fingerprints(body), body, python], schema=RESULT_SCHEMA)

    def fingerprints(self, bodies: pa.ChunkedArray) -> pa.ChunkedArray:
        """``plan.fingerprint`` of each body ``bodies`` gave (NULL for NULL)."""
        return _fingerprints(self._url, self._texts[0], bodies)

    def bodies(self, batch: pa.RecordBatch | pa.Table) -> tuple[pa.ChunkedArray,
                                                                pa.ChunkedArray]:
        """Each row's request body (NULL where ``_python``) and ``_python``: the part of
        ``render`` that runs in DuckDB, mostly without holding the GIL."""
        if self._con is None:
            raise RuntimeError("the renderer is closed")
        read = {}
        for name, (alias, dtype) in self._columns.items():
            column = batch.column(name)
            if column.type != dtype:
                raise ValueError(f"column {name!r} is {column.type}, the renderer was compiled"
                                 f" for {dtype}")
            read[alias] = column
        # Only the columns the templates read, zero-copy, under the query's own names, in
        # record batches small enough for DuckDB to scan them on all its threads.
        table = pa.table(read) if read else pa.table({"_s": pa.nulls(batch.num_rows)})
        table = pa.Table.from_batches(table.to_batches(max_chunksize=_ROWS_PER_SCAN),
                                      table.schema)
        self._con.register(_SOURCE, table)
        try:
            # Record batches of bounded rows keep each chunk of bodies under Arrow's 2 GiB
            # string limit (bodies of 100 kB on average) whatever the slice size.
            result = self._con.sql(self._query, params=self._params).to_arrow_table(_ROWS_PER_CHUNK)
        finally:
            self._con.unregister(_SOURCE)
        python = result.column("_python")
        if len(self._texts) == 1:
            body = pc.if_else(python, None, pa.repeat(pa.scalar(self._texts[0]), len(result)))
        else:
            parts: list[Any] = [self._texts[0]]
            for index, text in enumerate(self._texts[1:]):
                parts += [_json_fixed(result.column(f"_j{index}"), result.column(f"_x{index}")),
                          text]
            body = pc.binary_join_element_wise(*parts, "")
        return body, python

    def close(self) -> None:
        """Close the private DuckDB connection."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> SqlRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json_fixed(encoded: pa.ChunkedArray, texts: pa.ChunkedArray) -> pa.ChunkedArray:
    """DuckDB's JSON strings, with those it may have written differently redone in Python.

    ``texts`` holds the content where its JSON has a \\u00 escape, else NULL: DuckDB writes
    some control characters in uppercase hex (\\u001F) where Python writes \\u001f. Those rare
    rows get plan.canonical_json, the reference itself.
    """
    if texts.null_count == len(texts):
        return encoded
    chunks = []
    for chunk, raw in zip(encoded.chunks, texts.chunks, strict=True):
        if raw.null_count < len(raw):
            mask = raw.is_valid()
            redone = [plan.canonical_json(text) for text in raw.filter(mask).to_pylist()]
            chunk = pc.replace_with_mask(chunk, mask, pa.array(redone, pa.string()))
        chunks.append(chunk)
    return pa.chunked_array(chunks, pa.string())


def _fingerprints(url: str, prefix: str, bodies: pa.ChunkedArray) -> pa.ChunkedArray:
    """plan.fingerprint of each body (NULL for a NULL body); every body begins with ``prefix``."""
    # The hash of the constant start is computed once and copied for each row.
    start_state = hashlib.sha256(f"{url}\n{prefix}".encode())
    skip = len(prefix.encode())
    chunks = []
    for chunk in bodies.chunks:
        if chunk.type != pa.string():
            raise TypeError(f"bodies are {chunk.type}, not string")
        if len(chunk) == 0:
            continue
        _, offsets_buffer, data_buffer = chunk.buffers()
        offsets = memoryview(offsets_buffer).cast("i")[chunk.offset:chunk.offset + len(chunk) + 1]
        data = memoryview(data_buffer) if data_buffer is not None else memoryview(b"")
        out = []
        copy, append = start_state.copy, out.append
        for begin, end in itertools.pairwise(offsets):
            state = copy()
            state.update(data[begin + skip:end])  # NULL rows hash nothing much, then are masked
            append(state.hexdigest())
        hashed = pa.array(out, pa.string())
        chunks.append(pc.if_else(chunk.is_valid(), hashed, None) if chunk.null_count else hashed)
    return pa.chunked_array(chunks, pa.string())


def compile_renderer(spec: Spec, prompt: Prompt, schema: pa.Schema) -> SqlRenderer | None:
    """A SQL renderer for the prompt over slices of ``schema``, or None if it is out of reach."""
    params = _Params()
    columns: dict[str, str] = {}
    try:
        contents = [_compile_template(t, schema, params, columns) for t in prompt.templates]
    except _Unsupported:
        return None
    # A sentinel stands for each dynamic content; a constant one is rendered here by Jinja.
    token = secrets.token_hex(8)
    rendered = [f"batchsql-sql-render-{token}-{i}" if content is not None
                else template.compiled.render({})
                for i, (template, content) in enumerate(zip(prompt.templates, contents,
                                                            strict=True))]
    if prompt.embeddings:
        if contents[0] is None and not rendered[0].strip():
            return None  # every row fails in Python: the text to embed is blank
        body = plan.build_body(spec, rendered[0])
    else:
        body = plan.build_body(spec, [{"role": t.role, "content": text}
                                      for t, text in zip(prompt.templates, rendered, strict=True)])
    # The body's JSON, cut around each sentinel's JSON string (quotes included): the query
    # puts each content's JSON string in its place.
    rest = plan.canonical_json(body)
    texts: list[str] = []
    dynamic = [c for c in contents if c is not None]
    for content, sentinel in zip(contents, rendered, strict=True):
        if content is not None:
            encoded = plan.canonical_json(sentinel)
            before, found, rest = rest.partition(encoded)
            if not found or encoded in rest:
                return None
            texts.append(before)
    texts.append(rest)
    url = plan.request_url(spec)
    # Three steps, so that each value is computed once: the contents (and the risks of the
    # columns they read), DuckDB's JSON of each, then the JSON strings (NULL on risky rows)
    # and, where that JSON has a \u00 escape, the content for Python to encode.
    names = range(len(dynamic))
    step1 = "".join(f"{c.sql} AS _c{i}, " for i, c in zip(names, dynamic, strict=True))
    risk1 = " OR ".join(f"({r})" for r in dict.fromkeys(r for c in dynamic for r in c.risks))
    step2 = "".join(f"_c{i}, CAST(to_json(_c{i}) AS VARCHAR) AS _e{i}, " for i in names)
    # Python refuses a blank text to embed: that row is an error, rendered there.
    late = (f" OR (trim(_c0, {params(WHITESPACE)}) = '')"
            if prompt.embeddings and dynamic else "")
    escape = params("\\u00") if dynamic else ""
    step3 = "".join(f"CASE WHEN NOT _python THEN _e{i} END AS _j{i}, CASE WHEN NOT _python"
                    f" AND contains(_e{i}, {escape}) THEN _c{i} END AS _x{i}, " for i in names)
    # Contents are never NULL; were one, its row would be Python's.
    unknown = "".join(f" OR _e{i} IS NULL" for i in names)
    query = (f"SELECT {step3}_python{unknown} AS _python FROM ("
             f"SELECT {step2}coalesce(_python{late}, true) AS _python"
             f" FROM (SELECT {step1}{risk1 or 'false'} AS _python FROM {_SOURCE}))")
    read = {name: (alias, schema.field(name).type) for name, alias in columns.items()}
    return SqlRenderer(query, params.values, read, texts, url)


@dataclass(frozen=True)
class _Content:
    """One dynamic template in SQL: its rendered text and the risks of its rows."""

    sql: str
    risks: tuple[str, ...]


def _compile_template(template: Template, schema: pa.Schema, params: _Params,
                      columns: dict[str, str]) -> _Content | None:
    """The template's content in SQL, or None when it renders the same text for every row."""
    env = template.compiled.environment
    if env.autoescape is not False or env.finalize is not _finalize:
        raise _Unsupported("the Jinja environment is not the one this module mirrors")
    pieces = _Compiler(env, schema, params, columns).template(template.ast)
    if not any(isinstance(p, _Expr) for p in pieces):
        return None
    parts, risks = [], []
    for piece in pieces:
        if isinstance(piece, str):
            if piece:
                parts.append(params(piece))
        else:
            # finalize: None renders as nothing.
            parts.append(f"coalesce({piece.sql}, '')" if piece.nullable else piece.sql)
            risks.extend(piece.risks)
    sql = parts[0] if len(parts) == 1 else f"concat({', '.join(parts)})"
    return _Content(sql, tuple(dict.fromkeys(risks)))
