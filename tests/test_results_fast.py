"""results_fast.outcome_slices: exactly the tables of the Python path, most lines read by SQL.

Every test compares with the reference: ``outcome_table(spec, [parse_line(l, spec) for l in
non-blank lines], price)``, table for table (types, values, order), at two slice sizes. The
lines come from the emulator (what a healthy provider sends) and from hand-made and fuzzed
variants of them (what the SQL must hand to Python, or may only accept when Python agrees).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import random
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from batchsql import outputs, plan, results_fast
from batchsql.emulator import processing
from batchsql.pricing import Price, price_of
from batchsql.reconcile import parse_line
from batchsql.spec import Spec, load_spec, spec_from_dict

ROOT = Path(__file__).resolve().parents[1]
TICKETS = [
    "Charged twice: my invoice shows a double charge on the card. Please refund.",
    "App crashes: the app crashes with an error every time I export a report.",
    "Dark mode please: it would be great to have a dark mode.",
    "Password reset: I cannot log in, the password reset email never came.",
    "Überweisung: die Rechnung wurde doppelt abgebucht – bitte erstatten. 😊",
    'Quotes "inside", a back\\slash, a tab\there and a newline\nhere',
    "Slow page: the dashboard is very slow and shows an error 502 sometimes.",
    "中文工单：无法登录账户，请帮助。",
]

_BASE: dict[str, Any] = {"name": "s", "source": {"table": "t", "key": "id"},
                         "prompt": {"user": "Answer in JSON: {{ body }}"}, "model": "gpt-4o-mini"}

LABELS = load_spec(ROOT / "models" / "ticket_labels.yml")
SCALARS = spec_from_dict({**_BASE, "output": {"table": "o", "columns": {
    "label": {"type": "string", "enum": ["billing", "bug", "other"]},
    "priority": {"type": "integer", "minimum": 1, "maximum": 4},
    "score": {"type": "number", "required": False, "minimum": -1.5, "maximum": 1e6},
    "count": {"type": "integer", "required": False},
    "urgent": "boolean",
    "note": {"type": "string", "required": False},
}}})
NESTED = spec_from_dict({**_BASE, "output": {"table": "o", "columns": {
    "label": {"type": "string", "enum": ["billing", "bug", "feature_request", "other"]},
    "tags": {"type": "array", "items": {"type": "string", "enum": ["refund", "crash", "ui"]},
             "min_items": 1, "max_items": 3},
    "keywords": {"type": "array", "items": "string", "max_items": 5},
    "customer": {"type": "object", "properties": {
        "language": "string",
        "mood": {"type": "string", "enum": ["angry", "neutral", "happy"]},
        "address": {"type": "object", "required": False, "properties": {
            "city": "string", "zip": {"type": "integer", "minimum": 1000, "maximum": 9999}}}}},
    "steps": {"type": "array", "items": {"type": "object", "properties": {
        "action": "string", "minutes": {"type": "number", "minimum": 0}, "done": "boolean"}}},
    "matrix": {"type": "array", "required": False,
               "items": {"type": "array", "items": {"type": "integer"}}},
    "urgency": {"type": "integer", "minimum": 1, "maximum": 5, "required": False},
}}})
JSON_SPEC = spec_from_dict({**_BASE, "output": {"table": "o", "format": "json"}})
TEXT_SPEC = spec_from_dict({**_BASE, "output": {"table": "o"}})
_EMBED: dict[str, Any] = {"name": "e", "endpoint": "embeddings",
                          "source": {"table": "t", "key": "id"}, "prompt": {"input": "{{ body }}"},
                          "model": "text-embedding-3-small", "output": {"table": "o"}}
EMBED = spec_from_dict({**_EMBED, "params": {"dimensions": 8}})
EMBED_ANY = spec_from_dict(_EMBED)
EMBED_FLOAT = spec_from_dict({**_EMBED, "params": {"dimensions": 4,
                                                   "encoding_format": "float"}})

PRICE = price_of("gpt-4o-mini")
ALL_SPECS = [LABELS, SCALARS, NESTED, JSON_SPEC, TEXT_SPEC, EMBED, EMBED_ANY, EMBED_FLOAT]


# --- the two paths ----------------------------------------------------------------------------

def python_table(paths: Sequence[Path], spec: Spec, price: Price | None) -> pa.Table:
    """The reference: what runner/collect.py builds, over the same non-blank lines."""
    lines: list[bytes] = []
    for path in paths:
        with open(path, "rb") as f:
            lines += [line for line in f if line.strip()]
    return outputs.outcome_table(spec, [parse_line(line, spec) for line in lines], price)


def fast_table(paths: Sequence[Path], spec: Spec, price: Price | None,
               rows_per_slice: int = results_fast.ROWS_PER_SLICE
               ) -> tuple[pa.Table, results_fast.Stats]:
    stats = results_fast.Stats()
    tables = list(results_fast.outcome_slices(paths, spec, price,
                                              rows_per_slice=rows_per_slice, stats=stats))
    assert all(0 < t.num_rows <= rows_per_slice for t in tables)
    reference = python_table(paths, spec, price)
    if not tables:
        return reference.slice(0, 0), stats
    return pa.concat_tables(tables), stats


def assert_same(paths: Sequence[Path], spec: Spec, price: Price | None = PRICE,
                slices: Sequence[int] = (7, 100_000)) -> results_fast.Stats:
    """Both paths give equal tables (at each slice size, whatever ``output.keep_raw`` keeps);
    the fast path's stats."""
    stats = results_fast.Stats()
    for keep in ("all", "failures", "none"):
        kept = spec.model_copy(update={"output": spec.output.model_copy(
            update={"keep_raw": keep})})
        expected = python_table(paths, kept, price)
        for rows in slices:
            got, stats = fast_table(paths, kept, price, rows)
            assert got.schema == expected.schema
            if not got.equals(expected):
                _explain(expected, got)
            assert stats.lines == expected.num_rows
    return stats


def _explain(expected: pa.Table, got: pa.Table) -> None:
    assert got.num_rows == expected.num_rows, (got.num_rows, expected.num_rows)
    for name in expected.column_names:
        a, b = expected.column(name).to_pylist(), got.column(name).to_pylist()
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y and not (x != x and y != y):  # NaN == NaN here
                raw = expected.column("_raw")[k].as_py() or ""
                pytest.fail(f"row {k}, column {name}: python {x!r}, fast {y!r}\n{raw[:400]}")
    pytest.fail("tables differ (in a way to_pylist does not show)")


def write_lines(path: Path, lines: Sequence[str | bytes], end: bytes = b"\n") -> Path:
    with open(path, "wb") as f:
        for line in lines:
            f.write((line.encode() if isinstance(line, str) else line) + end)
    return path


# --- lines ------------------------------------------------------------------------------------

def emulator_line(spec: Spec, text: str, n: int) -> str:
    """The output-file line the emulator writes for one request of `spec` about `text`."""
    if spec.endpoint == "embeddings":
        url, rendered = plan.EMBEDDINGS, text
    else:
        url, rendered = plan.CHAT_COMPLETIONS, [{"role": "user",
                                                 "content": f"Answer in JSON: {text}"}]
    body = plan.build_body(spec, rendered)
    h = hashlib.blake2b(f"test:{n}".encode(), digest_size=32).hexdigest()
    answer, _, _ = processing._answer(url, body, h, 1_767_225_600)
    return processing._OK_LINE % (f"batch_req_{h[:32]}", json.dumps(f"b-{n}"), f"req_{h[32:]}",
                                  answer)


def emulator_lines(spec: Spec, count: int) -> list[str]:
    return [emulator_line(spec, f"{TICKETS[n % len(TICKETS)]} #{n}", n) for n in range(count)]


def chat_line(content: Any, *, cid: Any = "b-1", finish: Any = "stop", refusal: Any = None,
              model: Any = "gpt-4o-mini", pt: Any = 12, ct: Any = 5, status: Any = 200,
              error: Any = None, dumps: Callable[[Any], str] = json.dumps) -> str:
    body = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                                 "refusal": refusal, "annotations": []},
                         "logprobs": None, "finish_reason": finish}],
            "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": 17}}
    return dumps({"id": "batch_req_1", "custom_id": cid, "response": {
        "status_code": status, "request_id": "r", "body": body}, "error": error})


def edit(line: str, change: Callable[[dict[str, Any]], Any]) -> str:
    record = json.loads(line)
    change(record)
    return json.dumps(record)


def content_of(line: str) -> str:
    return json.loads(line)["response"]["body"]["choices"][0]["message"]["content"]


def with_content(line: str, content: Any) -> str:
    def change(r: dict[str, Any]) -> None:
        r["response"]["body"]["choices"][0]["message"]["content"] = content
    return edit(line, change)


def with_answer(line: str, change: Callable[[dict[str, Any]], Any]) -> str:
    answer = json.loads(content_of(line))
    change(answer)
    return with_content(line, json.dumps(answer))


def error_lines() -> list[str]:
    """What the error file holds: failed requests, and requests that never ran."""
    failed = {"id": "batch_req_2", "custom_id": "b-900", "response": {
        "status_code": 500, "request_id": "r", "body": {"error": {
            "message": "The server had an error", "type": "server_error", "param": None,
            "code": "server_error"}}}, "error": None}
    limited = copy.deepcopy(failed)
    limited["response"]["status_code"] = 429
    limited["response"]["body"]["error"]["code"] = None
    expired = {"id": "batch_req_3", "custom_id": "b-901", "response": None,
               "error": {"code": "batch_expired", "message": "not run before expiry"}}
    cancelled = {"id": "batch_req_4", "custom_id": "b-902", "response": None,
                 "error": {"code": "batch_cancelled", "message": "cancelled"}}
    return [json.dumps(x) for x in (failed, limited, expired, cancelled)]


def plain_success_lines(count: int, spec: Spec = LABELS) -> list[str]:
    return emulator_lines(spec, count)


# --- typed answers (the example spec) ---------------------------------------------------------

def test_emulator_success_lines_all_go_the_sql_way(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "out.jsonl", plain_success_lines(300))
    stats = assert_same([path], LABELS)
    assert stats.fast == stats.lines == 300


def labels_variants() -> list[str]:
    good = plain_success_lines(40)
    g = good[0]
    answer = json.loads(content_of(g))
    out = list(good)
    out += [
        with_answer(g, lambda a: a.update(label="nope")),  # not in the enum
        with_answer(g, lambda a: a.pop("summary")),  # missing required
        with_answer(g, lambda a: a.update(extra=1)),  # undeclared key
        with_answer(g, lambda a: a.update(label=5)),  # wrong type
        with_answer(g, lambda a: a.update(summary=None)),  # null for a required column
        with_answer(g, lambda a: a.update(summary=["x"])),
        with_answer(g, lambda a: a.update(summary="")),  # empty text is text
        with_answer(g, lambda a: a.update(summary="x" * 5000)),
        with_content(g, json.dumps(answer, separators=(",", ":"))),  # compact, as OpenAI
        with_content(g, json.dumps(answer, ensure_ascii=False, indent=2)),  # whitespace
        with_content(g, " \n" + json.dumps(answer) + "\n "),
        with_content(g, json.dumps(dict(reversed(list(answer.items()))))),  # key order
        with_content(g, json.dumps(answer)[:-1] + ', "label": "bug"}'),  # duplicate key
        with_content(g, json.dumps(answer)[:-1] + ', "zzz": 1, "zzz": 2}'),
        with_content(g, json.dumps(answer)[:-1] + ",}"),  # trailing comma
        with_content(g, json.dumps(answer)[:-1] + ', "x": NaN}'),
        with_content(g, '{"label": "bug", "priority": "low", "summary": "caf\\u00e9 \\ud83d'
                        '\\ude00"}'),
        with_content(g, '{"label": "bug", "priority": "low", "summary": "lone \\ud800"}'),
        with_content(g, '{"label": "b\\u0075g", "priority": "low", "summary": "\\/\\b\\f"}'),
        with_content(g, '{"label": "bug", "priority": "low", "summary": "nul \\u0000 here"}'),
        with_content(g, '{"label": "bug", "priority": "low", "summary": "tab\there"}'),
        with_content(g, '{"label": "bug", "priority": "low", "summary": "x"} trailing'),
        with_content(g, '{"label": "bug", "priority": "low", "summary": "x"}\x00'),
        with_content(g, '["label", "bug"]'),
        with_content(g, "not json"),
        with_content(g, ""),
        with_content(g, None),  # no text content
        with_content(g, {"label": "bug", "priority": "low", "summary": "an object"}),
        with_content(g, 42),
        edit(g, lambda r: r["response"]["body"]["choices"][0].update(finish_reason="length")),
        edit(g, lambda r: r["response"]["body"]["choices"][0].update(finish_reason=None)),
        edit(g, lambda r: r["response"]["body"]["choices"][0].pop("finish_reason")),
        edit(g, lambda r: r["response"]["body"]["choices"][0]["message"].update(
            refusal="I can't help with that.", content=None)),
        edit(g, lambda r: r["response"]["body"]["choices"][0]["message"].update(refusal="")),
        edit(g, lambda r: r["response"]["body"]["choices"][0]["message"].pop("refusal")),
        edit(g, lambda r: r["response"]["body"]["choices"][0].update(message=None)),
        edit(g, lambda r: r["response"]["body"].update(choices=[])),
        edit(g, lambda r: r["response"]["body"].update(choices=None)),
        edit(g, lambda r: r["response"]["body"].update(choices=[None])),
        edit(g, lambda r: r["response"]["body"]["choices"].append(
            r["response"]["body"]["choices"][0])),  # n=2: the first is read
        edit(g, lambda r: r["response"]["body"].update(usage=None)),
        edit(g, lambda r: r["response"]["body"].pop("usage")),
        edit(g, lambda r: r["response"]["body"]["usage"].update(prompt_tokens=12.0)),
        edit(g, lambda r: r["response"]["body"]["usage"].update(prompt_tokens="12")),
        edit(g, lambda r: r["response"]["body"]["usage"].update(prompt_tokens=True)),
        edit(g, lambda r: r["response"]["body"]["usage"].update(prompt_tokens=None)),
        edit(g, lambda r: r["response"]["body"]["usage"].update(prompt_tokens=-3)),
        edit(g, lambda r: r["response"]["body"]["usage"].update(prompt_tokens=2**53 + 1)),
        edit(g, lambda r: r["response"]["body"]["usage"].update(completion_tokens=None)),
        edit(g, lambda r: r["response"]["body"]["usage"].update(completion_tokens=0)),
        edit(g, lambda r: r["response"].update(status_code=299)),
        edit(g, lambda r: r["response"].update(status_code=300)),
        edit(g, lambda r: r["response"].update(status_code=200.0)),
        edit(g, lambda r: r["response"].update(status_code="200")),
        edit(g, lambda r: r["response"].update(status_code=None)),
        edit(g, lambda r: r["response"].pop("status_code")),
        edit(g, lambda r: r["response"].update(status_code=10**30)),
        edit(g, lambda r: r["response"].update(status_code="500")),  # not an int: 0 to Python
        edit(g, lambda r: r["response"].update(status_code=250.5)),
        edit(g, lambda r: r["response"].update(status_code=True)),
        edit(g, lambda r: r["response"].update(status_code=-1)),
        edit(g, lambda r: r["response"].update(status_code=[200])),
        edit(g, lambda r: r.update(error={"code": "x", "message": "y"})),
        edit(g, lambda r: r.update(error="")),
        edit(g, lambda r: r.update(custom_id=7)),
        edit(g, lambda r: r.update(custom_id=None)),
        edit(g, lambda r: r.update(custom_id=1.5)),
        edit(g, lambda r: r.update(custom_id=True)),
        edit(g, lambda r: r.update(custom_id="caf\u00e9 \"quoted\" \\ \u2028 \U0001F600")),
        edit(g, lambda r: r.pop("custom_id")),
        edit(g, lambda r: r["response"]["body"].update(model=None)),
        edit(g, lambda r: r["response"]["body"].update(model="gpt-4o-mini-2024-07-18")),
        edit(g, lambda r: r["response"].update(body=None)),
        edit(g, lambda r: r["response"].update(body="text")),
        edit(g, lambda r: r.update(response=None)),
        edit(g, lambda r: r.update(extra={"deep": [1, 2.5, None, True, "x"]})),
        chat_line(content_of(g), dumps=lambda x: json.dumps(x, separators=(",", ":"))),
        chat_line(content_of(g), dumps=lambda x: json.dumps(x, ensure_ascii=False)),
        chat_line(content_of(g), dumps=lambda x: json.dumps(x, indent=1).replace("\n", "\t")),
        *error_lines(),
    ]
    dup_cid = g.replace('"custom_id": "b-0"', '"custom_id": "b-0", "custom_id": "b-dup"')
    dup_content = g.replace('"content": ', '"content": "first", "content": ', 1)
    escaped_key = g.replace('"custom_id"', '"custom\\u005fid"').replace(
        '"refusal": null', '"refusal": null, "\\u0072efusal": "no"')
    escaped_length = g.replace('"finish_reason": "stop"', '"finish_reason": "\\u006cength"')
    assert escaped_length != g
    out += [dup_cid, dup_content, escaped_key, escaped_length,
            g.replace('"logprobs": null', '"logprobs": NaN'),  # Python reads NaN outside
            g.replace('"logprobs": null', '"logprobs": nan'),  # ... but not nan
            g.replace('"logprobs": null', '"logprobs": -Infinity'),
            g.replace('"logprobs": null', '"logprobs": -inf'),
            g.replace('"annotations": []', '"annotations": [1,]'),
            g.replace('"annotations": []', '"annotations": [1, ]'),
            g.replace('"annotations": []', '"annotations": [ Infinity]'),
            g.replace('"logprobs": null', '"logprobs": 1e400'),
            g.replace('"logprobs": null', '"logprobs": 123456789012345678901234567890'),
            # Python's json refuses integers of more than 4300 digits (sys.int_info)
            g.replace('"logprobs": null', '"logprobs": ' + "7" * 5000),
            g.replace('"logprobs": null', '"logprobs": [-' + "7" * 4301 + "]"),
            g.replace('"logprobs": null', '"logprobs": ' + "7" * 4300),
            g.replace('"logprobs": null', '"logprobs": ' + "7" * 5000 + ".5"),
            g[:-1] + ', }',
            g + " ", " " + g, g + "\r", g + " x", g + g,
            g[: len(g) // 2], '{"custom_id": "b-77", "response": ', "[1, 2]", '"text"', "null",
            "{}", "{", "}", "not json at all"]
    return out


def test_typed_answers_success_failure_and_malformed(tmp_path: Path) -> None:
    lines = labels_variants()
    stats = assert_same([write_lines(tmp_path / "out.jsonl", lines)], LABELS)
    assert stats.fast >= 0.95 * 40


def test_bytes_python_reads_its_own_way(tmp_path: Path) -> None:
    g = plain_success_lines(1)[0].encode()
    cut = g.index(b"Charged")
    lines = [
        g, b"", b"   ", b"\r", b"\t \x0b\x0c",  # blank lines are not outcomes
        g[:cut] + b"\xff\xfe" + g[cut:],  # invalid UTF-8 inside content
        g[:cut] + "é".encode() + g[cut:],  # raw UTF-8 inside a string
        g[:cut] + b"\xed\xa0\x80" + g[cut:],  # an encoded surrogate (json.loads takes it)
        g[:cut] + b"\xc0\xaf" + g[cut:],  # overlong
        b"\xef\xbb\xbf" + g,  # BOM: utf-8-sig for json.loads
        b"\xff\xfe" + g,
        g[:cut] + b"\x00" + g[cut:],
        g.replace(b'"error": null', b'"error": null\x00'),
        g.replace(b', "error"', b',\t"error"'),
        g.replace(b'"b-0"', b'"b-\x7f"'),
        g + b"\r",
        b"\x00" * 8,
        g,
    ]
    assert_same([write_lines(tmp_path / "out.jsonl", lines)], LABELS)
    assert_same([write_lines(tmp_path / "crlf.jsonl", lines, b"\r\n")], LABELS)


def test_last_line_without_newline_and_empty_files(tmp_path: Path) -> None:
    good = plain_success_lines(3)
    ends = tmp_path / "ends.jsonl"
    ends.write_bytes(("\n".join(good) + "\n" + good[0][:-5]).encode())
    crlf = tmp_path / "crlf.jsonl"
    crlf.write_bytes(("\r\n".join(good)).encode())
    empty, blank = tmp_path / "empty.jsonl", tmp_path / "blank.jsonl"
    empty.write_bytes(b"")
    blank.write_bytes(b"\n\n  \n")
    for path in (ends, crlf):
        assert_same([path], LABELS)
    assert assert_same([empty, blank], LABELS).lines == 0
    assert list(results_fast.outcome_slices([empty, blank], LABELS, PRICE)) == []


def test_output_and_error_files_in_order(tmp_path: Path) -> None:
    out = write_lines(tmp_path / "output.jsonl", plain_success_lines(25))
    err = write_lines(tmp_path / "errors.jsonl", error_lines() * 3)
    stats = assert_same([out, err], LABELS, slices=(1, 4, 7, 100_000))
    assert stats.fast == 25 and stats.lines == 37


def test_a_model_that_is_not_text_raises_like_python(tmp_path: Path) -> None:
    line = edit(plain_success_lines(1)[0], lambda r: r["response"]["body"].update(model=5))
    path = write_lines(tmp_path / "out.jsonl", [line])
    with pytest.raises(pa.ArrowTypeError):
        python_table([path], LABELS, PRICE)
    with pytest.raises(pa.ArrowTypeError):
        list(results_fast.outcome_slices([path], LABELS, PRICE))


@pytest.mark.parametrize("price", [None, Price(0.15, 0.6), Price(1.1, 4.4, 0.3, 1.7),
                                   Price(0.1 + 0.2, 1 / 3), Price(0.0, 0.0)])
def test_costs_are_the_same_floats(tmp_path: Path, price: Price | None) -> None:
    rng = random.Random(3)
    good = plain_success_lines(1)[0]
    tokens = [(rng.randint(0, 10**9), rng.randint(0, 10**6)) for _ in range(200)]
    lines = [edit(good, lambda r, a=a, b=b: r["response"]["body"]["usage"].update(
        prompt_tokens=a, completion_tokens=b)) for a, b in tokens]
    lines.append(edit(good, lambda r: r["response"]["body"]["usage"].update(
        prompt_tokens=2**53 - 1, completion_tokens=None)))
    assert_same([write_lines(tmp_path / "out.jsonl", lines)], LABELS, price)


# --- typed scalars: integers, numbers, booleans, optional columns -----------------------------

def scalar_line(answer: str, n: int = 0) -> str:
    return chat_line(answer, cid=f"b-{n}")


SCALAR_ANSWERS = [
    '{"label": "bug", "priority": 3, "score": 0.5, "count": 7, "urgent": true, "note": "x"}',
    '{"label": "bug", "priority": 3.0, "score": null, "count": null, "urgent": false,'
    ' "note": null}',
    '{"label": "bug", "priority": 1, "score": -1.5, "count": -9007199254740991, "urgent": true,'
    ' "note": "é"}',
    '{"label": "bug", "priority": 4, "score": 1e6, "count": 9007199254740992, "urgent": true,'
    ' "note": ""}',
    '{"label": "bug", "priority": 4, "score": 1000000.0000001, "count": 0, "urgent": true,'
    ' "note": ""}',
    '{"label": "bug", "priority": 2, "score": -0.0, "count": -0, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 2, "score": 1e-400, "count": 1E2, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 2, "score": 0.1, "count": 2.5, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 2, "score": 12345678901234567890, "count": 1, "urgent": true,'
    ' "note": ""}',
    '{"label": "bug", "priority": 2, "score": 1, "count": 12345678901234567890, "urgent": true,'
    ' "note": ""}',
    '{"label": "bug", "priority": 2, "score": 1, "count": 123456789012345678901234567890,'
    ' "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 2, "score": 1e400, "count": 1, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 2, "score": NaN, "count": 1, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 2, "score": -Infinity, "count": 1, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 0, "score": 1, "count": 1, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 5, "score": 1, "count": 1, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 4.5, "score": 1, "count": 1, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 2, "score": -1.5000001, "count": 1, "urgent": true,'
    ' "note": ""}',
    '{"label": "bug", "priority": "2", "score": 1, "count": 1, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": true, "score": 1, "count": 1, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 2, "score": false, "count": 1, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 2, "score": "1", "count": 1, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 2, "score": 1, "count": 1, "urgent": 1, "note": ""}',
    '{"label": "bug", "priority": 2, "score": 1, "count": 1, "urgent": "true", "note": ""}',
    '{"label": "bug", "priority": 2, "score": 1, "count": 1, "urgent": null, "note": ""}',
    '{"label": "bug", "priority": 2, "score": 1, "count": 1, "urgent": true, "note": 5}',
    '{"label": "bug", "priority": 2, "score": 1, "count": 1, "urgent": true, "note": {}}',
    '{"label": "bug", "priority": 2, "count": 1, "urgent": true, "note": "score missing"}',
    '{"label": "bug", "priority": 2, "urgent": true}',
    '{"label": "bug", "priority": 2, "score": [], "count": 1, "urgent": true, "note": ""}',
    '{"label": "BUG", "priority": 2, "score": 1, "count": 1, "urgent": true, "note": ""}',
    '{"label": "bug ", "priority": 2, "score": 1, "count": 1, "urgent": true, "note": ""}',
    '{"label": "bug", "priority": 2, "score": 1, "count": 1, "urgent": true, "note": "",'
    ' "label": "other"}',
]


def test_typed_scalars(tmp_path: Path) -> None:
    rng = random.Random(5)
    answers = list(SCALAR_ANSWERS)
    for _ in range(300):  # numbers of all sizes and spellings
        score = rng.choice([rng.uniform(-2, 2e6), rng.random() * 10 ** rng.randint(-30, 30),
                            rng.randint(-5, 10**7)])
        text = rng.choice([repr(score), f"{score:.17g}", f"{score:e}", f"{score:.3E}"])
        count = rng.choice([str(rng.randint(-(2**60), 2**60)), f"{rng.randint(-99, 99)}.0",
                            f"{rng.randint(-99, 99)}e1", str(rng.randint(-(2**53), 2**53))])
        answers.append(f'{{"label": "other", "priority": {rng.randint(1, 4)}, "score": {text},'
                       f' "count": {count}, "urgent": false, "note": "n"}}')
    lines = [scalar_line(a, n) for n, a in enumerate(answers)]
    path = write_lines(tmp_path / "out.jsonl", lines)
    stats = assert_same([path], SCALARS)
    # Python's successes, but for integers past 2**53 and three hand-written answers (two
    # leave out optional keys, one repeats a key), which SQL leaves to Python.
    table = python_table([path], SCALARS, PRICE).to_pylist()
    exact = [r for r in table if r["_status"] == "succeeded"
             and (r["count"] is None or abs(r["count"]) < 2**53)]
    assert stats.fast == len(exact) - 3 > 80


# --- nested answers: arrays and objects -------------------------------------------------------

NESTED_GOOD: dict[str, Any] = {
    "label": "bug", "tags": ["crash"], "keywords": ["export", "report"],
    "customer": {"language": "en", "mood": "angry", "address": None},
    "steps": [{"action": "reproduce", "minutes": 5.5, "done": False},
              {"action": "fix", "minutes": 60, "done": True}],
    "matrix": [[1, 2], [], [3.0]],
    "urgency": None,
}


def nested_changed(path: tuple[Any, ...], value: Any = None, *, delete: bool = False) -> str:
    answer = copy.deepcopy(NESTED_GOOD)
    node = answer
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return json.dumps(answer)


NESTED_ANSWERS = [
    json.dumps(NESTED_GOOD),
    json.dumps(NESTED_GOOD, separators=(",", ":")),
    nested_changed(("customer", "address"), {"city": "Zürich", "zip": 8000}),
    nested_changed(("customer", "address"), {"city": "Zürich", "zip": 8000.0}),
    nested_changed(("customer", "address"), {"city": "Zürich", "zip": 999}),
    nested_changed(("customer", "address"), {"city": "Zürich"}),
    nested_changed(("customer", "address"), {"city": "Zürich", "zip": 8000, "x": 1}),
    nested_changed(("customer", "address"), []),
    nested_changed(("customer", "mood"), "sad"),
    nested_changed(("customer", "language"), None),
    nested_changed(("customer", "language"), delete=True),
    nested_changed(("customer", "extra"), "x"),
    nested_changed(("customer",), None),
    nested_changed(("customer",), "text"),
    nested_changed(("tags",), []),
    nested_changed(("tags",), ["crash", "ui", "refund", "crash"]),
    nested_changed(("tags",), ["crash", "nope"]),
    nested_changed(("tags",), ["crash", None]),
    nested_changed(("tags",), "crash"),
    nested_changed(("tags",), None),
    nested_changed(("tags",), ["crash", 5]),
    nested_changed(("keywords",), []),
    nested_changed(("keywords",), ["a", "b", "c", "d", "e", "f"]),
    nested_changed(("keywords",), ["a\"b", "c\\d", "é", "\u0000", "\ud83d\ude00"]),
    nested_changed(("steps",), []),
    nested_changed(("steps", 0, "minutes"), -1),
    nested_changed(("steps", 0, "minutes"), "5"),
    nested_changed(("steps", 0, "done"), None),
    nested_changed(("steps", 0, "extra"), 1),
    nested_changed(("steps", 1), None),
    nested_changed(("steps", 1), "step"),
    nested_changed(("steps", 1, "action"), delete=True),
    nested_changed(("matrix",), None),
    nested_changed(("matrix",), delete=True),
    nested_changed(("matrix",), [[1, 2.5]]),
    nested_changed(("matrix",), [[1, None]]),
    nested_changed(("matrix",), [1, 2]),
    nested_changed(("matrix",), [[2**53 + 1]]),
    nested_changed(("matrix",), [[-(2**52)]]),
    nested_changed(("urgency",), 3),
    nested_changed(("urgency",), 6),
    nested_changed(("urgency",), delete=True),
    json.dumps(NESTED_GOOD)[:-1] + ', "customer": {"language": "x", "mood": "happy",'
                                   ' "address": null}}',
    json.dumps(NESTED_GOOD).replace('"action": "reproduce"',
                                    '"action": "reproduce", "action": "again"'),
    json.dumps(NESTED_GOOD).replace('"language": "en"', '"language": "en", "language": "fr"'),
    json.dumps(NESTED_GOOD).replace('"tags": ["crash"]', '"tags": ["crash",]'),
    json.dumps(NESTED_GOOD).replace('"minutes": 60', '"minutes": nan'),
]


def test_typed_nested_answers(tmp_path: Path) -> None:
    lines = emulator_lines(NESTED, 30)
    lines += [chat_line(a, cid=f"n-{k}") for k, a in enumerate(NESTED_ANSWERS)]
    stats = assert_same([write_lines(tmp_path / "out.jsonl", lines)], NESTED)
    assert stats.fast >= 30 + 4


# --- JSON answers and text answers ------------------------------------------------------------

JSON_ANSWERS = [
    '{"a": 1}', '{}', ' {"a": [1, 2, {"b": null}]} ', '{"a": 1, "a": 2}', '[1]', '"x"', '1',
    'null', '{"a": NaN}', '{"a": Infinity}', '{"a": nan}', '{"a": 1,}', '{"a": [1,]}',
    '{"a": 1e400}', '{"a": 123456789012345678901234567890}', '{"a": "\\ud800"}',
    '{"a": "\\ud83d\\ude00"}', '{"a": "é"}', '{"a": 1} x', '{"a": 1}{"b": 2}', 'not json', '',
    '{"a":\n1}', '{"a": "\t"}', '\ufeff{"a": 1}', '{"a": ' + "1" * 4301 + "}",
    '{"a": [' + "1" * 700 + "]}", '{"a": ' + "1" * 700 + ".0}", '{"a": 1}\u0000',
    '{"a": 1}\x00', '{"a": "\x00"}', '{"a": "\\u0000"}',
]


def test_json_answers(tmp_path: Path) -> None:
    lines = emulator_lines(JSON_SPEC, 20)
    lines += [chat_line(a, cid=f"j-{k}") for k, a in enumerate(JSON_ANSWERS)]
    lines.append(edit(lines[0], lambda r: r["response"]["body"]["choices"][0].update(
        finish_reason="length")))
    stats = assert_same([write_lines(tmp_path / "out.jsonl", lines)], JSON_SPEC)
    assert stats.fast >= 20 + 5


def test_text_answers(tmp_path: Path) -> None:
    lines = emulator_lines(TEXT_SPEC, 20)
    lines += [chat_line(a, cid=f"t-{k}") for k, a in enumerate(
        [*JSON_ANSWERS, "", "x" * 10_000, "lone \ud800 surrogate", "nul \x00", 5, None, [], {}])]
    lines.append(edit(lines[0], lambda r: r["response"]["body"]["choices"][0].update(
        finish_reason="length")))  # a cut-off text answer is still text
    lines.append(edit(lines[0], lambda r: r["response"]["body"]["choices"][0]["message"].update(
        refusal="no")))
    stats = assert_same([write_lines(tmp_path / "out.jsonl", lines)], TEXT_SPEC)
    assert stats.fast >= 20 + 20


# --- embeddings -------------------------------------------------------------------------------

def embedding_line(value: Any, n: int = 0, model: str = "text-embedding-3-small") -> str:
    body = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": value}],
            "model": model, "usage": {"prompt_tokens": 5, "total_tokens": 5}}
    return json.dumps({"id": "batch_req_1", "custom_id": f"e-{n}", "response": {
        "status_code": 200, "request_id": "r", "body": body}, "error": None})


def packed(values: Sequence[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def test_embeddings(tmp_path: Path) -> None:
    lines = emulator_lines(EMBED, 30)
    eight = [0.5, -1.0, 2.0, 0.0, 1e-3, 3.4e38, -0.0, 7.0]
    nan = packed([float("nan"), *eight[1:]])
    values: list[Any] = [
        packed(eight), packed(eight[:4]), packed(eight * 2), "", "AAAA", packed(eight)[:-1],
        packed(eight).replace("A", "B", 1), packed(eight) + "=", "!" + packed(eight)[1:],
        packed(eight)[:-2] + "\\/" + packed(eight)[-1:], nan,
        packed([float("inf"), *eight[1:]]), eight, [1, 2, 3, 4, 5, 6, 7, 8], [True] * 8,
        [1e39] * 8, [3.4028234663852886e38] * 8, ["1"] * 8, None, 5, {"x": 1},
        base64.b64encode(b"\x00\x00\x80").decode(),  # 3 bytes: not whole floats
    ]
    for value in values:
        lines.append(embedding_line(value, len(lines)))
    lines.append(edit(lines[0], lambda r: r["response"]["body"].update(data=[])))
    lines.append(edit(lines[0], lambda r: r["response"]["body"].update(data=None)))
    lines.append(edit(lines[0], lambda r: r["response"]["body"]["data"].append(
        r["response"]["body"]["data"][0])))
    path = write_lines(tmp_path / "out.jsonl", lines)
    stats = assert_same([path], EMBED)
    assert stats.fast >= 30 + 1
    assert_same([path], EMBED_ANY)
    assert_same([path], EMBED_FLOAT, None)


def test_embeddings_as_float_lists(tmp_path: Path) -> None:
    lines = emulator_lines(EMBED_FLOAT, 20)
    assert '"embedding": [' in lines[0]
    assert_same([write_lines(tmp_path / "out.jsonl", lines)], EMBED_FLOAT)


# --- slices, blocks, and lines longer than a block ---------------------------------------------

def test_blocks_smaller_than_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [*labels_variants()[:60], "", "  ", *plain_success_lines(10)]
    path = write_lines(tmp_path / "out.jsonl", lines, b"\r\n")
    for size in (1, 100, 1000, 4096):
        monkeypatch.setattr(results_fast, "BLOCK_BYTES", size)
        assert_same([path], LABELS, slices=(3, 100_000))


def test_a_download_in_chunks_reads_as_its_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A source given as chunks (a download as it arrives) gives the file's tables, however
    its chunks fall against lines and blocks."""
    lines = [*labels_variants()[:60], "", "  ", *plain_success_lines(10), *error_lines()]
    path = write_lines(tmp_path / "out.jsonl", lines, b"\r\n")
    data = path.read_bytes()
    expected = pa.concat_tables(results_fast.outcome_slices([path], LABELS, PRICE))
    monkeypatch.setattr(results_fast, "BLOCK_BYTES", 1000)
    for size in (1, 7, 999, 1000, 4096, len(data)):
        chunks = (data[i:i + size] for i in range(0, len(data), size))
        got = pa.concat_tables(results_fast.outcome_slices([chunks], LABELS, PRICE))
        assert got.equals(expected), size
    # Two sources, the second one chunked: one stream of outcomes, in order.
    both = list(results_fast.outcome_slices([path, iter([data])], LABELS, PRICE))
    assert pa.concat_tables(both).equals(pa.concat_tables([expected, expected]))


def test_a_download_stopped_early_is_closed(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results_fast, "BLOCK_BYTES", 4096)
    data = write_lines(tmp_path / "out.jsonl", plain_success_lines(200)).read_bytes()
    closed, sent = [], [0]

    def download() -> Iterator[bytes]:
        try:
            for i in range(0, len(data), 1000):
                sent[0] += 1
                yield data[i:i + 1000]
        finally:
            closed.append(True)

    slices = results_fast.outcome_slices([download()], LABELS, PRICE, rows_per_slice=2)
    assert next(slices).num_rows == 2
    slices.close()
    # Closed, and before it was read to the end: the reader reads a block or two ahead.
    assert closed == [True] and sent[0] < len(data) // 1000 // 2


def test_memory_is_bounded_by_the_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results_fast, "BLOCK_BYTES", 64 * 1024)
    path = write_lines(tmp_path / "out.jsonl", plain_success_lines(2) * 200)
    tables = list(results_fast.outcome_slices([path], LABELS, PRICE))
    assert len(tables) > 5 and all(t.nbytes < 4 * 64 * 1024 for t in tables)


# --- fuzzing: whatever the bytes, the same outcome ---------------------------------------------

_ALPHABET = [*'{}[]",:\\ 0123456789.eE+-tfnulNaIy\t\r/\'ab', "\x00", "\x7f", "é", "\ufeff",
             "\u2028", "NaN", "nan", "Infinity", "-inf", "true", "null", "\\u", "\\ud800",
             "\\u0041", "\\\\", '\\"', "\\n", "//", "0x1", ",}", ",]", "1e400", "2.0"]


def python_accepts(line: bytes, spec: Spec) -> bool:
    """Whether the Python path builds a table for the line (a model that is a number, or a
    token count past BIGINT, make it raise; such a file fails the same way either path)."""
    try:
        outputs.outcome_table(spec, [parse_line(line, spec)], PRICE)
    except (pa.ArrowException, OverflowError, UnicodeError):
        return False
    return True


def mutate(rng: random.Random, line: str) -> str:
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(line) + 1)
        op = rng.random()
        piece = rng.choice(_ALPHABET)
        if op < 0.4:
            line = line[:i] + piece + line[i:]
        elif op < 0.7:
            line = line[:i] + line[i + rng.randint(1, 3):]
        elif op < 0.85:
            line = line[:i] + piece + line[i + 1:]
        else:  # duplicate a stretch: repeated keys, values, brackets
            j = min(len(line), i + rng.randint(1, 40))
            line = line[:j] + line[i:j] + line[j:]
    return line


def mutate_json(rng: random.Random, line: str) -> str:
    """A structural change: some value, anywhere, replaced by a value of another kind."""
    record = json.loads(line)
    stack: list[Any] = [record]
    nodes: list[tuple[Any, Any]] = []
    while stack:
        node = stack.pop()
        for key in (node if isinstance(node, dict) else range(len(node))):
            nodes.append((node, key))
            if isinstance(node[key], dict | list):
                stack.append(node[key])
            if isinstance(node[key], str) and node[key][:1] in "{[":
                try:  # the answer inside content: change it too
                    inner = json.loads(node[key])
                    node[key] = json.dumps(inner)
                    if rng.random() < 0.5 and isinstance(inner, dict) and inner:
                        k = rng.choice(list(inner))
                        inner[k] = rng.choice([None, 1, -2.5, "x", True, [], {}, 2**70])
                        node[key] = json.dumps(inner)
                except ValueError:
                    pass
    node, key = rng.choice(nodes)
    choice = rng.random()
    if choice < 0.15 and isinstance(node, dict):
        del node[key]
    else:
        node[key] = rng.choice([None, 0, 1, -1, 1.5, 2**64, "", "x", "length", True, False, [],
                                {}, [None], {"a": 1}, float("nan"), float("inf"), 200, 300])
    return json.dumps(record, ensure_ascii=rng.random() < 0.5)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: f"{s.name}-{s.output.format}-"
                         f"{bool(s.output.columns)}-{s.params.get('encoding_format')}")
def test_fuzzed_lines(tmp_path: Path, spec: Spec) -> None:
    rng = random.Random(ALL_SPECS.index(spec))
    good = emulator_lines(spec, 24)
    encoded = [line.encode() for line in good]
    for k in range(1500):
        line = rng.choice(good)
        line = (mutate(rng, line) if k % 2 else mutate_json(rng, line))
        data = line.encode("utf-8", "surrogatepass")
        if python_accepts(data, spec):
            encoded.append(data)
    stats = assert_same([write_lines(tmp_path / "fuzz.jsonl", encoded)], spec, slices=(100_000,))
    float_lists = spec.params.get("encoding_format") == "float"  # Python reads those
    assert stats.fast >= (0 if float_lists else len(good))


def test_fuzzed_numbers_convert_like_python(tmp_path: Path) -> None:
    rng = random.Random(11)
    lines = []
    for n in range(2000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 25)))
        text = rng.choice(["-", ""]) + digits.lstrip("0") or "0"
        if rng.random() < 0.6:
            text += "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20)))
        if rng.random() < 0.4:
            text += rng.choice("eE") + rng.choice(["", "-", "+"]) + str(rng.randint(0, 330))
        lines.append(scalar_line('{"label": "bug", "priority": 2, "score": 0, "count": 1,'
                                 f' "urgent": true, "note": "{text}"}}'.replace(
                                     '"score": 0', f'"score": {text}'), n))
    stats = assert_same([write_lines(tmp_path / "out.jsonl", lines)], SCALARS, slices=(100_000,))
    assert stats.fast > 100


def test_sql_accepts_only_what_python_accepts_as_json() -> None:
    """The guard regexes: every line yyjson would misread is kept from SQL."""
    for bad in ['{"a": 1,}', '{"a": [1 ,]}', '{"a": nan}', '{"a": -Inf}', '{"a": [INF]}',
                '{"a":\tinfinity}', '{"a": [0,\r]}', '{"a": NAN}']:
        text = pa.array([bad], pa.large_string())
        assert any(pc.match_substring_regex(text, g)[0].as_py()
                   for g in results_fast._LINE_GUARDS), bad


def test_big_endian_hosts_leave_vectors_to_python(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_lines(tmp_path / "out.jsonl", emulator_lines(EMBED, 5))
    monkeypatch.setattr(results_fast, "sys", SimpleNamespace(byteorder="big"))
    assert assert_same([path], EMBED).fast == 0


def test_a_block_sql_fails_on_is_read_by_python(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [*plain_success_lines(5), *error_lines()]
    path = write_lines(tmp_path / "out.jsonl", lines)
    monkeypatch.setattr(results_fast._Reader, "_sql", lambda self: "SELECT no_such_column")
    stats = assert_same([path], LABELS)
    assert stats.fast == 0 and stats.sql_failures == 1 and stats.lines == len(lines)


# --- the reader thread ------------------------------------------------------------------------

def test_errors_reach_the_caller_and_stopping_early_ends_the_reader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results_fast, "BLOCK_BYTES", 4096)
    path = write_lines(tmp_path / "out.jsonl", plain_success_lines(50))
    with pytest.raises(FileNotFoundError):
        list(results_fast.outcome_slices([path, tmp_path / "missing.jsonl"], LABELS, PRICE))
    slices = results_fast.outcome_slices([path], LABELS, PRICE, rows_per_slice=2)
    assert next(slices).num_rows == 2
    slices.close()  # the reader thread is told to stop, and joined
    assert not [t for t in threading.enumerate() if t.name == "results_fast-reader"]


def test_one_connection_reads_many_files_alike(tmp_path: Path) -> None:
    """A collection reads every batch with one connection: what it reads is what a fresh
    connection per file reads, and nothing of one file stays for the next."""
    first = write_lines(tmp_path / "a.jsonl", plain_success_lines(40))
    second = write_lines(tmp_path / "b.jsonl", [*plain_success_lines(3), b"not json"])
    with results_fast.parsing_connection() as con:
        for path in (first, second, first):
            shared = list(results_fast.outcome_slices([path], LABELS, PRICE, con=con))
            own = list(results_fast.outcome_slices([path], LABELS, PRICE))
            assert pa.concat_tables(shared).equals(pa.concat_tables(own))
        assert con.execute("select count(*) from duckdb_views() where not internal"
                           ).fetchall() == [(0,)]
