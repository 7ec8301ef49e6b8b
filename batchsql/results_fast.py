"""Result files -> outcome tables, with DuckDB doing the per-line work.

``outcome_slices`` yields the tables ``outputs.outcome_table`` builds from
``reconcile.parse_line`` over the same lines, equal value for value, several times faster.

The SQL path is a *fast accept*: it vouches for a line only when it can prove that Python's
``json`` module and ``parse_line`` would read it the same way and call it a success. Every
other line (malformed, an error, a refusal, an answer that fails validation, anything unusual)
is handed to ``parse_line`` itself, so its outcome is Python's by construction.

What the proof rests on (each point is checked by tests/test_results_fast.py):

* Lines are split on ``\\n`` only, like iterating over a binary file. A line reaches SQL only if
  it is valid UTF-8 (Arrow's check refuses what a strict Python decode refuses) and starts
  with ``{``, which also keeps out BOMs and other top-level values.
* DuckDB's JSON reader (yyjson) accepts text Python's refuses: trailing commas, and NaN or
  Infinity in any spelling (``nan``, ``-inf``). Python also refuses integer literals of more
  than ``sys.get_int_max_str_digits()`` digits. Lines where a regex finds any of these after a
  ``,`` ``:`` or ``[`` go to Python, and so do answers (the JSON inside ``content``), where
  Python refuses every NaN and Infinity. Lone surrogate escapes, control characters in strings
  and trailing garbage are refused by both.
* Duplicate keys: Python keeps the last, DuckDB's lookups the first. Lines and answers are read
  with ``json_transform_strict``, which fails on a duplicate of any key it reads, and an
  answer's keys must all be declared (``json_keys``); either failure sends the line to Python.
* Every value is read with its JSON type: as JSON text (yyjson writes each back, so ``json_type``
  tells an integer from a float and a string is decoded only if it is one), or typed with
  ``json_type`` checking the type apart. Numbers are kept only where the conversion is exact:
  integers below 2**53, doubles (both parsers round correctly).

Known difference: Python's json raises RecursionError on a line nested about a thousand levels
deep (``parse_line`` lets it escape, failing the whole collect); SQL reads such a line.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from batchsql import outputs
from batchsql.ahead import read_ahead
from batchsql.pricing import BATCH_DISCOUNT, Price
from batchsql.reconcile import ANSWER_COLUMN, EMBEDDING_COLUMN, SUCCEEDED, parse_line
from batchsql.spec import Column, Spec, answer_kind

#: Default rows per yielded table; a table also never holds more than a block of lines.
ROWS_PER_SLICE = 100_000
#: Bytes read from a file at a time: bounds memory whatever the file size (a longer line grows
#: the buffer to hold it, as reading it in Python would).
BLOCK_BYTES = 32 * 1024 * 1024

_WS = r"[ \t\r]*"  # JSON whitespace inside a line (a line holds no "\n")
_NAN_INF = r"[-+]?(?:[nN][aA][nN]|[iI][nN][fF])"
# Python's json refuses an integer literal of more digits than sys.get_int_max_str_digits()
# (4300 by default, never below 640, 0 for no limit); 640 digits or more go to Python.
_LONG_INT = r"-?[0-9]{640}"
#: Text yyjson reads and Python's json refuses, in a result line: a trailing comma, NaN or
#: Infinity in any spelling (Python takes three, and would get them all the same), a long
#: integer. They all follow ',' ':' or '['; one regex per leading byte, because RE2 then skips
#: ahead with memchr, and three such scans cost less than one alternation. A NUL is refused by
#: both parsers; it is kept away from SQL all the same.
_LINE_GUARDS = (f",{_WS}(?:[\\]}}]|{_NAN_INF}|{_LONG_INT})", f":{_WS}(?:{_NAN_INF}|{_LONG_INT})",
                f"\\[{_WS}(?:{_NAN_INF}|{_LONG_INT})", "\x00")
#: The same for an answer, where "\n" is whitespace too (Python refuses every NaN/Infinity in
#: an answer).
_ANSWER_GUARDS = tuple(g.replace(_WS, r"[ \t\n\r]*") for g in _LINE_GUARDS[:3])

_MAX_EXACT = 2**53  # below it an integer converts to a double and back unchanged


@dataclass
class Stats:
    """What `outcome_slices` did: non-blank lines read, how many SQL vouched for, and how
    many blocks of lines SQL failed on (and Python read whole)."""

    lines: int = 0
    fast: int = 0
    sql_failures: int = 0


def parsing_connection() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection for ``outcome_slices`` to read many files with: opening a database
    for each batch cost about 20 ms (a run of 200 batches: 4 s of the reading thread)."""
    return duckdb.connect()


#: A result file: its path, or its bytes in chunks of any size as they arrive (a download).
Source = Path | Iterable[bytes]


def outcome_slices(sources: Sequence[Source], spec: Spec, price: Price | None, *,
                   rows_per_slice: int = ROWS_PER_SLICE, stats: Stats | None = None,
                   con: duckdb.DuckDBPyConnection | None = None) -> Iterator[pa.Table]:
    """Outcome tables of the non-blank lines of `sources`, in order, shaped like `outcome_table`.

    Concatenated, they equal ``outcome_table(spec, [parse_line(l, spec) for l in lines],
    price)`` over the same lines. Each holds at most `rows_per_slice` rows. They are read
    with ``con`` (see ``parsing_connection``), else with a connection of their own; a chunked
    source is closed once read, or when the caller stops early. One block buffer serves all
    the sources of a call (one kept for every call of a collection added its 32 MB to the
    peak memory and saved no measurable time).
    """
    if rows_per_slice < 1:
        raise ValueError("rows_per_slice must be at least 1")
    reader = _Reader(spec, price)
    buf = bytearray(BLOCK_BYTES)
    blocks = (_prepare(lines, newline) for source in sources
              for lines, newline in _blocks(source, buf))
    with contextlib.ExitStack() as stack:
        if con is None:
            con = stack.enter_context(parsing_connection())
        for block in read_ahead(blocks, name="batchsql-results-reader"):
            for start in range(0, len(block.lines), rows_per_slice):
                table = reader.outcomes(con, block.slice(start, rows_per_slice), stats)
                if table.num_rows:
                    yield table


# -- lines ---------------------------------------------------------------------------------------

def _blocks(source: Source, buf: bytearray) -> Iterator[tuple[pa.Array, bool]]:
    """The source's lines without their "\\n" (large_binary), a block at a time.

    The flag says whether the block's last line ended with "\\n" (only the source's last line
    may not). ``buf`` (a longer line grows it) is reused: fresh memory for every block costs
    more than reading it.
    """
    kept = 0  # bytes of an unfinished line at the front of buf
    with _filler(source) as fill:
        while True:
            if kept == len(buf):  # a line longer than the buffer
                buf.extend(bytes(len(buf)))
            with memoryview(buf) as view:
                got = fill(view[kept:])
            end = kept + got
            if not got:
                if kept:
                    yield _split(buf, kept), False
                return
            cut = buf.rfind(b"\n", kept, end)
            if cut < 0:
                kept = end
                continue
            yield _split(buf, cut), True
            buf[:end - cut - 1] = buf[cut + 1:end]
            kept = end - cut - 1


@contextlib.contextmanager
def _filler(source: Source) -> Iterator[Callable[[memoryview], int]]:
    """A function filling a view with the source's next bytes (0: no more), as far as they go.

    A file is read straight into the view; a chunked source's chunks are copied in until it is
    full, so that a block is as large for a download as for a file.
    """
    if isinstance(source, (str, Path)):
        with open(source, "rb", buffering=0) as f:
            yield lambda view: f.readinto(view) or 0
        return
    chunks = iter(source)
    pending = memoryview(b"")

    def fill(view: memoryview) -> int:
        nonlocal pending
        n = 0
        while n < len(view):
            if not pending:
                chunk = next(chunks, None)
                if chunk is None:
                    break
                pending = memoryview(chunk).cast("B")
                continue
            k = min(len(view) - n, len(pending))
            view[n:n + k] = pending[:k]
            pending, n = pending[k:], n + k
        return n

    try:
        yield fill
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:  # a download stopped early: end it now
            close()


def _split(buf: bytearray, size: int) -> pa.Array:
    """The first `size` bytes of `buf` split on "\\n", copied into Arrow memory."""
    with memoryview(buf) as view:
        data = pa.py_buffer(view[:size])
        offsets = pa.array([0, size], pa.int64()).buffers()[1]
        whole = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, data])
        lines = pc.split_pattern(whole, b"\n").flatten()
        del whole, data  # release the view before buf changes
    return lines


def _utf8_mask(lines: pa.Array) -> pa.BooleanArray:
    """Which lines are valid UTF-8 (rare path: some line is not)."""
    if len(lines) <= 64:
        ok = []
        for value in lines.to_pylist():
            try:
                value.decode("utf-8")
                ok.append(True)
            except UnicodeDecodeError:
                ok.append(False)
        return pa.array(ok, pa.bool_())
    try:
        lines.cast(pa.large_string())
        return pa.array([True] * len(lines), pa.bool_())
    except pa.ArrowInvalid:
        half = len(lines) // 2
        return pa.concat_arrays([_utf8_mask(lines.slice(0, half)),
                                 _utf8_mask(lines.slice(half))])


@dataclass
class _Block:
    """Lines (without their "\\n") and what is known of them before any JSON is read."""

    lines: pa.Array  # large_binary
    text: pa.Array  # large_string, "" where a line is not UTF-8
    cand: pa.Array  # bool: SQL may read the line
    all_utf8: bool
    last_newline: bool  # the last line ended with "\\n"

    def slice(self, start: int, length: int) -> _Block:
        return _Block(self.lines.slice(start, length), self.text.slice(start, length),
                      self.cand.slice(start, length), self.all_utf8,
                      self.last_newline or start + length < len(self.lines))


def _prepare(lines: pa.Array, last_newline: bool) -> _Block:
    """Decode the lines and pick those SQL may read: UTF-8, starting with '{', unguarded."""
    cand = pc.starts_with(lines, b"{")
    try:
        text = lines.cast(pa.large_string())
        all_utf8 = True
    except pa.ArrowInvalid:
        utf8 = _utf8_mask(lines)
        text = pc.if_else(utf8, lines, pa.scalar(b"", pa.large_binary())).cast(pa.large_string())
        cand, all_utf8 = pc.and_(cand, utf8), False
    for guard in _LINE_GUARDS:
        cand = pc.and_not(cand, pc.match_substring_regex(text, guard))
    return _Block(lines, text, cand, all_utf8, last_newline)


# -- SQL -----------------------------------------------------------------------------------------

def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _structure(value: Any) -> str:
    return _lit(json.dumps(value, separators=(",", ":")))


def _string(j: str) -> str:
    """The value of a JSON string given as its (yyjson-written) text."""
    return f"json_extract_string({j}, '$')"


def _is_string(j: str) -> str:
    return f"left({j}, 1) = '\"'"


def _exact_integer(j: str, v: str) -> str:
    """`j` (JSON text) is an integer literal and `v` (its TRY_CAST to BIGINT) its value."""
    # TRY_CAST alone would also take 1.5 or 1e2; json_type says UBIGINT/BIGINT for integer
    # literals only (a larger one is DOUBLE, and fails the cast anyway).
    return f"({v} IS NOT NULL AND json_type({j}) IN ('UBIGINT', 'BIGINT'))"


def _is_number(j: str) -> str:
    # A number's text starts with '-' or a digit (NaN/Infinity too, which isfinite() refuses);
    # a string, true, false, an object or an array starts otherwise.
    return f"left({j}, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9')"


def _double(value: float) -> str:
    return f"CAST({_lit(repr(float(value)))} AS DOUBLE)"


def _let(expr: str, var: str, body: str) -> str:
    """`body` with `var` bound to `expr`, evaluated once (a one-item list_transform)."""
    return f"list_transform([{expr}], lambda {var}: {body})[1]"


def _read_object(text: str, names: Sequence[str]) -> str:
    """A JSON object's declared values (JSON texts) and its keys, as {'o': ..., 'k': ...}.

    Either is NULL when the text is not an object; the strict transform also fails on a
    duplicate of a declared key or a missing one, and `k` shows any undeclared key.
    """
    struct = _structure({name: "JSON" for name in names})
    return (f"{{'o': try(json_transform_strict({text}, {struct})), "
            f"'k': try(json_keys({text}))}}")


def _object_ok(names: Sequence[str], o: str, k: str) -> str:
    declared = ", ".join(_lit(n) for n in names)
    return f"{o} IS NOT NULL AND {k} IS NOT NULL AND list_has_all([{declared}], {k})"


class _Node:
    """SQL for one declared column: how DuckDB checks and converts its value.

    Every node reads the JSON text of its value (NULL for JSON null), as yyjson writes it
    back: a string with its quotes, a number in its shortest form, an object or an array
    minified. Checks mirror `reconcile._check`: a node passes only where Python finds no
    problem, and its value then is Python's.
    """

    def __init__(self, column: Column, names: Iterator[str]) -> None:
        self.column = column
        self.kind = column.type
        self.items = _Node(column.items, names) if column.items is not None else None
        self.properties = {name: _Node(c, names) for name, c in (column.properties or {}).items()}
        self.var = next(names)  # lambda variable bound to what this node reads

    def _read(self, text: str) -> str:
        """An array as a list of item texts, an object as `_read_object`; scalars as is."""
        if self.kind == "array":
            return f"try(json_transform_strict({text}, '[\"JSON\"]'))"
        if self.kind == "object":
            return _read_object(text, list(self.properties))
        return text

    def ok(self, text: str, value: str | None = None) -> str:
        """True when `text` (a present, non-null value) passes; `value`: its `value`, if named."""
        c = self.column
        if self.kind == "string":
            cond = _is_string(text)
            if c.enum is not None:
                cond += (f" AND {value or _string(text)}"
                         f" IN ({', '.join(_lit(v) for v in c.enum)})")
            return cond
        if self.kind == "boolean":
            return f"{text} IN ('true', 'false')"
        if self.kind in ("integer", "number"):
            d = f"TRY_CAST({text} AS DOUBLE)"
            conds = [_is_number(text), f"isfinite({d})"]
            if self.kind == "integer":
                # A float with an integral value is an integer to Python too (3.0 -> 3);
                # below 2**53 the double is the exact value, and so are the comparisons.
                conds += [f"{d} = trunc({d})", f"abs({d}) < {_MAX_EXACT}"]
            if c.minimum is not None:
                conds.append(f"{d} >= {_double(c.minimum)}")
            if c.maximum is not None:
                conds.append(f"{d} <= {_double(c.maximum)}")
            return " AND ".join(conds)
        v = self.var
        if self.kind == "array":
            assert self.items is not None
            conds = [f"{v} IS NOT NULL"]
            if c.min_items is not None:
                conds.append(f"len({v}) >= {c.min_items}")
            if c.max_items is not None:
                conds.append(f"len({v}) <= {c.max_items}")
            item = self.items.var + "_"
            # list_bool_and skips NULLs: each item's verdict is made non-NULL first.
            verdict = f"coalesce({item} IS NOT NULL AND ({self.items.ok(item)}), false)"
            conds.append(f"(len({v}) = 0 OR list_bool_and(list_transform({v}, lambda {item}:"
                         f" {verdict})))")
            return _let(self._read(text), v, " AND ".join(conds))
        conds = [_object_ok(list(self.properties), f"{v}.o", f"{v}.k")]
        for name, node in self.properties.items():
            prop = f"struct_extract({v}.o, {_lit(name)})"
            check = f"coalesce({node.ok(prop)}, false)"
            conds.append(f"{prop} IS NOT NULL AND {check}" if node.column.required
                         else f"({prop} IS NULL OR {check})")
        return _let(self._read(text), v, " AND ".join(f"({c})" for c in conds))

    def ok_typed(self, value: str, kind: str) -> str:
        """Checks of a top-level scalar `value` read typed (`_TYPED`), `kind` its json_type."""
        c = self.column
        if self.kind == "string":
            cond = f"{kind} = 'VARCHAR'"
            if c.enum is not None:
                cond += f" AND {value} IN ({', '.join(_lit(v) for v in c.enum)})"
            return cond
        if self.kind == "boolean":
            return f"{kind} = 'BOOLEAN'"
        d = value  # read as DOUBLE, an integer column's too
        conds = [f"{kind} IN ('UBIGINT', 'BIGINT', 'DOUBLE')", f"isfinite({d})"]
        if self.kind == "integer":
            conds += [f"{d} = trunc({d})", f"abs({d}) < {_MAX_EXACT}"]
        if c.minimum is not None:
            conds.append(f"{d} >= {_double(c.minimum)}")
        if c.maximum is not None:
            conds.append(f"{d} <= {_double(c.maximum)}")
        return " AND ".join(conds)

    def value(self, text: str) -> str:
        """The SQL value of `text` (present, non-null, passed `ok`)."""
        if self.kind == "string":
            return _string(text)
        if self.kind == "boolean":
            return f"({text} = 'true')"
        if self.kind == "integer":
            return f"TRY_CAST(TRY_CAST({text} AS DOUBLE) AS BIGINT)"
        if self.kind == "number":
            return f"TRY_CAST({text} AS DOUBLE)"
        v = self.var
        if self.kind == "array":
            assert self.items is not None
            item = self.items.var + "_"
            return _let(self._read(text), v,
                        f"list_transform({v}, lambda {item}: {self.items.value(item)})")
        fields = []
        for name, node in self.properties.items():
            prop = f"struct_extract({v}.o, {_lit(name)})"
            fields.append(f"{_quote_ident(name)} := CASE WHEN {prop} IS NOT NULL THEN"
                          f" {node.value(prop)} END")
        return _let(self._read(text), v, f"struct_pack({', '.join(fields)})")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _names() -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield f"v{n}"


#: How a top-level scalar answer column is read: yyjson's conversions are exact for values of
#: the right JSON type (checked apart), a number being read as a double (an integer column's
#: too: below 2**53 it is exact, and larger ones are left to Python).
_TYPED = {"string": "VARCHAR", "integer": "DOUBLE", "number": "DOUBLE", "boolean": "BOOLEAN"}

# Leaves read as JSON text keep their JSON type (custom_id, model, token counts, the answer).
# The others are read as VARCHAR, which loses the type but not what Python decides: `error`
# and `refusal` are NULL only for JSON null; `finish_reason` is 'length' only for the string
# "length"; a status code that casts to an integer below 300 lets Python go on either way (an
# integer below 300 does, anything else counts as 0).
_OUTER_CHAT = {"custom_id": "JSON", "error": "VARCHAR", "response": {
    "status_code": "VARCHAR", "body": {
        "model": "JSON", "usage": {"prompt_tokens": "JSON", "completion_tokens": "JSON"},
        "choices": [{"finish_reason": "VARCHAR",
                     "message": {"content": "JSON", "refusal": "VARCHAR"}}]}}}
_OUTER_EMBEDDING = {"custom_id": "JSON", "error": "VARCHAR", "response": {
    "status_code": "VARCHAR", "body": {"model": "JSON", "usage": {"prompt_tokens": "JSON"},
                                       "data": [{"embedding": "JSON"}]}}}

# Every stage only projects, each value computed once and named: a WHERE on a computed column
# would be pushed down by DuckDB with the expression inlined at each use, evaluating the JSON
# transforms many times over. Rows are filtered on `ok` in Arrow instead.
_SQL = """
WITH p AS (
    SELECT i, try(json_transform_strict(line, {outer})) AS r FROM lines WHERE cand
), o AS (
    SELECT i, r IS NOT NULL AS has_r, r.error AS err_j, r.custom_id AS cid_j,
           r.response.status_code AS sc_j, r.response.body IS NOT NULL AS has_body,
           r.response.body.model AS model_j, r.response.body.usage.prompt_tokens AS pt_j,
           {fields}
    FROM p
), a AS (
    SELECT *, TRY_CAST(sc_j AS BIGINT) AS sc_v, TRY_CAST(pt_j AS BIGINT) AS pt_v,
           TRY_CAST(ct_j AS BIGINT) AS ct_v,
           CASE WHEN starts_with(answer_j, '"') THEN {answer_string} END AS content
    FROM o
), b AS (
    SELECT *, {answer} FROM a
), c AS (
    SELECT *{texts} FROM b
), d AS (
    SELECT *{values} FROM c
)
SELECT i, coalesce({ok}, false) AS ok,
       CASE WHEN cid_j IS NOT NULL THEN {cid} END AS _custom_id,
       CASE WHEN model_j IS NOT NULL THEN {model} END AS _model,
       pt_v AS _input_tokens, {ct_out} AS _output_tokens, content{outputs}
FROM d
"""


class _Reader:
    """The SQL of one spec, and the merge of what it vouched for with Python's outcomes."""

    def __init__(self, spec: Spec, price: Price | None) -> None:
        self.spec = spec
        self.kind = answer_kind(spec)
        self.price = price
        self.schema = pa.schema(
            [*outputs.value_arrow_schema(spec),
             *((name, _ARROW_META[kind]) for name, kind in outputs.OUTCOME_META)])
        self.nodes = {name: _Node(c, _names())
                      for name, c in (spec.output.columns or {}).items()}
        self.sql = self._sql()
        # SQL reads base64 vectors only (little-endian float32 bytes): a spec asking for JSON
        # lists of floats, or a big-endian host, leaves every line to Python.
        self.enabled = self.kind != "embedding" or (
            sys.byteorder == "little" and spec.params.get("encoding_format") != "float")

    def _sql(self) -> str:
        embedding = self.kind == "embedding"
        body = "r.response.body"
        # An object whose custom_id is a string or null, no error, a response whose status
        # code is null or below 300, a body with a model that is a string or null, token counts
        # that are integers (exact as doubles) or null.
        ok = ["has_r", "err_j IS NULL", "has_body",
              "(sc_j IS NULL OR sc_v < 300)",
              f"(cid_j IS NULL OR {_is_string('cid_j')})",
              f"(model_j IS NULL OR {_is_string('model_j')})",
              f"(pt_j IS NULL OR ({_exact_integer('pt_j', 'pt_v')} AND abs(pt_v) < {_MAX_EXACT}))",
              "content IS NOT NULL"]
        if embedding:
            fields = f"NULL AS ct_j, {body}.data[1].embedding AS answer_j"
        else:
            message = f"{body}.choices[1].message"
            fields = (f"{body}.usage.completion_tokens AS ct_j,"
                      f" {message} IS NOT NULL AS has_message,"
                      f" {message}.refusal AS refusal_j, {message}.content AS answer_j,"
                      f" {body}.choices[1].finish_reason AS finish_j")
            ok += [f"(ct_j IS NULL OR ({_exact_integer('ct_j', 'ct_v')}"
                   f" AND abs(ct_v) < {_MAX_EXACT}))",
                   "has_message", "refusal_j IS NULL"]
            if self.kind != "text":
                # Python refuses a JSON answer cut off at max_tokens before reading it.
                ok.append("finish_j IS DISTINCT FROM 'length'")
        answer, answer_ok = self._answer_sql()
        texts, values, outputs_ = self._columns_sql()
        return _SQL.format(
            outer=_structure(_OUTER_EMBEDDING if embedding else _OUTER_CHAT), fields=fields,
            answer_string=_string("answer_j"), answer=answer, texts=texts, values=values,
            ok=" AND ".join([*ok, answer_ok]), cid=_string("cid_j"), model=_string("model_j"),
            ct_out="0" if embedding else "ct_v", outputs=outputs_)

    def _answer_sql(self) -> tuple[str, str]:
        """(stage b's columns, when the answer makes the line a success); `content` its text.

        The answer guard (NaN, trailing commas) runs in Arrow, on the `content` column.
        """
        if self.kind == "embedding":
            # Only canonical base64 (encoding the bytes again gives the text back): Python's
            # decoder then reads the same bytes, whatever its leniency with other text.
            cond = ["answer IS NOT NULL", "to_base64(answer) = content",
                    "octet_length(answer) > 0", "octet_length(answer) % 4 = 0"]
            dims = self.spec.params.get("dimensions")
            if dims is not None:
                cond.append(f"octet_length(answer) = {4 * int(dims)}")
            return "try(from_base64(content)) AS answer", " AND ".join(cond)
        if self.kind == "text":
            return "NULL AS answer", "true"
        if self.kind == "json":
            return "try(json_type(content)) AS answer", "answer = 'OBJECT'"
        # Scalars are read typed (yyjson converts, exactly), their JSON types from json_type;
        # arrays and objects as JSON text, for their nodes to read.
        struct = _structure({name: _TYPED.get(node.kind, "JSON")
                             for name, node in self.nodes.items()})
        paths = ", ".join(_lit(f"$.{name}") for name in self.nodes)
        read = (f"{{'o': try(json_transform_strict(content, {struct})), "
                f"'k': try(json_keys(content)), 't': try(json_type(content, [{paths}]))}}")
        conds = [_object_ok(list(self.nodes), "answer.o", "answer.k"), "answer.t IS NOT NULL"]
        for k, node in enumerate(self.nodes.values()):
            kind = f"answer.t[{k + 1}]"
            if node.kind in _TYPED:
                check = node.ok_typed(f"t{k}", kind)
                present = f"{kind} <> 'NULL'"
            else:
                check = node.ok(f"t{k}")
                present = f"t{k} IS NOT NULL"
            check = f"coalesce({check}, false)"
            conds.append(f"({present} AND {check})" if node.column.required
                         else f"(NOT ({present}) OR {check})")
        return f"{read} AS answer", " AND ".join(conds)

    def _columns_sql(self) -> tuple[str, str, str]:
        """(stage c's JSON texts, stage d's values, the output columns) of typed answers."""
        if self.kind == "embedding":
            return "", "", f", answer AS {EMBEDDING_COLUMN}"
        if self.kind != "columns":
            return "", "", ""  # the answer is `content`
        texts, values, outputs_ = [], [], []
        for k, (name, node) in enumerate(self.nodes.items()):
            texts.append(f", struct_extract(answer.o, {_lit(name)}) AS t{k}")
            value = (f"t{k}" if node.kind in _TYPED else
                     f"CASE WHEN t{k} IS NOT NULL THEN {node.value(f't{k}')} END")
            if node.kind == "integer":
                value = f"TRY_CAST(t{k} AS BIGINT)"
            values.append(f", {value} AS x{k}")
            outputs_.append(f", x{k} AS {_quote_ident(name)}")
        return "".join(texts), "".join(values), "".join(outputs_)

    # One block of lines --------------------------------------------------------------------

    def outcomes(self, con: duckdb.DuckDBPyConnection, block: _Block,
                 stats: Stats | None) -> pa.Table:
        """The outcome table of a block of lines, blank lines dropped."""
        lines, text, n = block.lines, block.text, len(block.lines)
        cand = block.cand if self.enabled else pa.repeat(False, n)
        try:
            fast = self._fast(con, text, cand, n)
        except duckdb.Error:
            # Whatever went wrong, Python reading the whole block is slower, never different.
            fast = self._nothing_fast()
            if stats is not None:
                stats.sql_failures += 1
        # Python reads every line SQL did not vouch for; blank lines are not outcomes.
        slow_idx, slow, blank = [], [], []
        if fast.num_rows < n:
            done = pc.is_in(pa.array(range(n), pa.int64()), value_set=fast.column("i"))
            for k in pc.indices_nonzero(pc.invert(done)).to_pylist():
                raw = lines[k].as_py()
                if not raw.strip():
                    blank.append(k)
                    continue
                if k < n - 1 or block.last_newline:
                    raw += b"\n"
                slow_idx.append(k)
                slow.append(parse_line(raw, self.spec))
        if stats is not None:
            stats.lines += fast.num_rows + len(slow)
            stats.fast += fast.num_rows
        raw = None
        if block.all_utf8:  # the raw text of every line is the line itself: no copy
            raw = text if not blank else text.filter(
                pc.invert(pc.is_in(pa.array(range(n), pa.int64()), value_set=pa.array(blank))))
        return self._merge(fast, text, raw, slow_idx, slow)

    def _fast(self, con: duckdb.DuckDBPyConnection, text: pa.Array, cand: pa.Array,
              n: int) -> pa.Table:
        """What SQL vouches for: a row per fast line, `i` its index in the block."""
        # Several record batches: DuckDB scans them on several threads.
        lines = pa.Table.from_arrays([pa.array(range(n), pa.int64()), text, cand],
                                     names=["i", "line", "cand"])
        lines = pa.Table.from_batches(lines.to_batches(max_chunksize=max(1024, n // 8 + 1)))
        con.register("lines", lines)
        try:
            table = con.sql(self.sql).to_arrow_table()
        finally:
            con.unregister("lines")
        ok = table.column("ok")
        if self.kind in ("json", "columns"):
            content = table.column("content")
            for guard in _ANSWER_GUARDS:
                ok = pc.and_not(ok, pc.fill_null(pc.match_substring_regex(content, guard), True))
        table = table.filter(ok).drop_columns(["ok"])
        i = table.column("i")
        if table.num_rows > 1 and not pc.all(pc.less(i.slice(0, len(i) - 1), i.slice(1))).as_py():
            table = table.sort_by("i")  # DuckDB keeps insertion order; this is a safety net
        if self.kind == "embedding":
            return _vectors(table.drop_columns(["content"]))
        if self.kind in ("text", "json"):
            return table.rename_columns(
                [ANSWER_COLUMN if c == "content" else c for c in table.column_names])
        return table.drop_columns(["content"])

    def _nothing_fast(self) -> pa.Table:
        fields = [("i", pa.int64()), *((f.name, f.type) for f in self.schema
                                       if f.name not in ("_status", "_error", "_cost_usd", "_raw"))]
        return pa.schema(fields).empty_table()

    def _merge(self, fast: pa.Table, text: pa.Array, raw: pa.Array | None,
               slow_idx: list[int], slow: list[Any]) -> pa.Table:
        """Fast and Python outcomes in line order, shaped exactly like `outcome_table`.

        `raw` is the `_raw` column when every line was valid UTF-8 (the lines themselves);
        otherwise Python's replaces the text of the lines that were not.
        """
        m = fast.num_rows
        columns: dict[str, Any] = {}
        for name, kind in outputs.value_arrow_schema(self.spec):
            columns[name] = fast.column(name).cast(kind)
        columns["_custom_id"] = fast.column("_custom_id").cast(pa.string())
        columns["_status"] = pa.array([SUCCEEDED] * m, pa.string())
        columns["_error"] = pa.nulls(m, pa.string())
        columns["_model"] = fast.column("_model").cast(pa.string())
        columns["_input_tokens"] = fast.column("_input_tokens").cast(pa.int64())
        columns["_output_tokens"] = fast.column("_output_tokens").cast(pa.int64())
        columns["_cost_usd"] = self._cost(columns["_input_tokens"], columns["_output_tokens"])
        fast_idx = fast.column("i")
        # Fast lines all succeeded: their own text is kept only with keep_raw: all.
        keep = raw is None and self.spec.output.keep_raw == "all"
        columns["_raw"] = (text.take(fast_idx) if keep else pa.nulls(m, pa.large_string())
                           ).cast(pa.string())
        table = pa.table(columns, schema=self.schema)
        if slow:
            python = outputs.outcome_table(self.spec, slow, self.price).cast(self.schema)
            order = pc.sort_indices(pa.concat_arrays(
                [fast_idx.combine_chunks().cast(pa.int64()), pa.array(slow_idx, pa.int64())]))
            table = pa.concat_tables([table, python]).take(order)
        if raw is not None:
            kept = outputs.kept_raw(self.spec, table.column("_status"), raw.cast(pa.string()))
            table = table.set_column(table.num_columns - 1, "_raw", kept)
        return table.combine_chunks()

    def _cost(self, input_tokens: pa.ChunkedArray, output_tokens: pa.ChunkedArray) -> pa.Array:
        """`Price.cost` of each row, in the same floating point operations."""
        if self.price is None:
            return pa.nulls(len(input_tokens), pa.float64())
        p = self.price
        per_input = p.input * BATCH_DISCOUNT if p.batch_input is None else p.batch_input
        per_output = p.output * BATCH_DISCOUNT if p.batch_output is None else p.batch_output
        # Python multiplies an int by a float: the int converts to the nearest double, exact
        # below 2**53, which is all the SQL lets through.
        pt = pc.cast(input_tokens, pa.float64())
        ct = pc.cast(pc.fill_null(output_tokens, 0), pa.float64())
        total = pc.add(pc.multiply(pt, pa.scalar(float(per_input))),
                       pc.multiply(ct, pa.scalar(float(per_output))))
        return pc.divide(total, pa.scalar(1_000_000.0)).combine_chunks()


_ARROW_META = {"varchar": pa.string(), "bigint": pa.int64(), "double": pa.float64()}


def _vectors(table: pa.Table) -> pa.Table:
    """Embedding bytes as list<float32>; rows with a non-finite value dropped (Python's)."""
    raw = table.column(EMBEDDING_COLUMN).combine_chunks().cast(pa.large_binary())
    ends = pa.Array.from_buffers(pa.int64(), len(raw) + 1, [None, raw.buffers()[1]],
                                 offset=raw.offset)
    start = ends[0].as_py()
    offsets = pc.subtract(ends, start)
    size = offsets[-1].as_py()
    data = raw.buffers()[2]
    data = data.slice(start, size) if data is not None else pa.py_buffer(b"")
    values = pa.Array.from_buffers(pa.float32(), size // 4, [None, data])
    vectors = pa.ListArray.from_arrays(pc.divide(offsets, 4).cast(pa.int32()), values)
    bad = pc.invert(pc.is_finite(values))
    if pc.any(bad).as_py():
        rows = pc.unique(pc.filter(pc.list_parent_indices(vectors), bad))
        keep = pc.invert(pc.is_in(pa.array(range(len(vectors)), pa.int64()), value_set=rows))
        table, vectors = table.filter(keep), vectors.filter(keep)
    return table.set_column(table.schema.get_field_index(EMBEDDING_COLUMN), EMBEDDING_COLUMN,
                            vectors)
