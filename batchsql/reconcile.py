"""Provider result lines -> outcomes: pure parsing and validation of answers.

A line that cannot be parsed, an error the provider returned for one request, and an answer that
does not match the declared columns are all outcomes, never exceptions.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import sys
from array import array
from dataclasses import dataclass, field
from typing import Any

from batchsql.spec import Column, Spec, answer_kind

SUCCEEDED = "succeeded"
FAILED = "failed"
INVALID_OUTPUT = "invalid_output"
EXPIRED = "expired"
CANCELLED = "cancelled"
MISSING = "missing"

#: Outcomes that spend one of a row's `max_attempts` (expired/cancelled lines never ran).
ATTEMPT_STATUSES = (FAILED, INVALID_OUTPUT, MISSING)

#: Column holding the answer text (or JSON object) when a spec declares no output columns.
ANSWER_COLUMN = "answer"
#: Column holding the vector of an embeddings spec.
EMBEDDING_COLUMN = "embedding"

_INT64 = (-(2**63), 2**63 - 1)
_FLOAT32_MAX = 3.4028234663852886e38

_CUSTOM_ID = re.compile(rb'"custom_id"\s*:\s*"([A-Za-z0-9_\-]{1,64})"')


@dataclass
class Outcome:
    """What became of one request, as read from one provider result line."""

    custom_id: str | None
    status: str
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    input_tokens: int | None = None
    output_tokens: int | None = None
    model: str | None = None
    raw: str = ""


def parse_line(line: bytes, spec: Spec) -> Outcome:
    """Turn one line of an OpenAI batch output or error file into an outcome."""
    raw = line.decode("utf-8", errors="replace").rstrip("\n")
    try:
        record = json.loads(line)
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
    except (ValueError, RecursionError) as e:  # nested past Python's limit: malformed too
        # Salvage the custom_id from a truncated line so the row is marked, not lost.
        match = _CUSTOM_ID.search(line)
        cid = match.group(1).decode() if match else None
        return Outcome(cid, FAILED, f"malformed result line: {e}", raw=raw)

    cid = record.get("custom_id")
    cid = str(cid) if cid is not None else None
    response = record.get("response")
    error = record.get("error")
    if not isinstance(response, dict):
        code = (error or {}).get("code") if isinstance(error, dict) else None
        message = (error or {}).get("message") if isinstance(error, dict) else None
        status = {"batch_expired": EXPIRED, "batch_cancelled": CANCELLED}.get(code or "", FAILED)
        text = f"{code}: {message}" if code else (message or "no response in result line")
        return Outcome(cid, status, text, raw=raw)

    body = response.get("body")
    body = body if isinstance(body, dict) else {}
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    embedding = spec.endpoint == "embeddings"
    outcome = Outcome(
        cid, FAILED, raw=raw, model=body.get("model"),
        input_tokens=_int(usage.get("prompt_tokens")),
        # Embeddings produce no tokens; only their input is billed.
        output_tokens=0 if embedding else _int(usage.get("completion_tokens")),
    )
    status_code = _int(response.get("status_code")) or 0
    if status_code >= 300 or error:
        detail = body.get("error") if isinstance(body.get("error"), dict) else (error or {})
        code = detail.get("code") or detail.get("type") if isinstance(detail, dict) else None
        message = detail.get("message") if isinstance(detail, dict) else None
        outcome.error = f"HTTP {status_code} {code or 'error'}: {message or 'no message'}"
        return outcome
    if embedding:
        return _read_embedding(outcome, body, spec.params.get("dimensions"))
    return _read_answer(outcome, body, spec)


def _read_answer(outcome: Outcome, body: dict[str, Any], spec: Spec) -> Outcome:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        outcome.error = "response has no choices"
        return outcome
    choice = choices[0]
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    if message.get("refusal"):
        outcome.status, outcome.error = INVALID_OUTPUT, f"refusal: {message['refusal']}"
        return outcome
    content = message.get("content")
    if not isinstance(content, str):
        outcome.status, outcome.error = INVALID_OUTPUT, "answer has no text content"
        return outcome
    if _not_unicode(content):
        outcome.status, outcome.error = INVALID_OUTPUT, _NOT_UNICODE
        return outcome
    kind = answer_kind(spec)
    if kind == "text":
        outcome.status, outcome.values = SUCCEEDED, {ANSWER_COLUMN: content}
        return outcome
    if choice.get("finish_reason") == "length":
        outcome.status = INVALID_OUTPUT
        outcome.error = "answer was cut off at max_tokens before the JSON was complete"
        return outcome
    if kind == "json":
        values, problem = {ANSWER_COLUMN: content}, _json_object(content)[1]
    else:
        values, problem = validate_answer(content, spec.output.columns or {})
    if problem:
        outcome.status, outcome.error = INVALID_OUTPUT, problem
    else:
        outcome.status, outcome.values = SUCCEEDED, values
    return outcome


def _json_object(content: str) -> tuple[Any, str | None]:
    try:
        data = json.loads(content, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        return None, f"answer is not valid JSON: {e}"
    if not isinstance(data, dict):
        return None, f"answer is a JSON {type(data).__name__}, expected an object"
    # A \ud800 escape parses to a lone surrogate, which no warehouse text column can hold.
    if "\\u" in content and _not_unicode(json.dumps(data, ensure_ascii=False)):
        return None, _NOT_UNICODE
    return data, None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_NOT_UNICODE = "answer has text that is not valid Unicode (a lone surrogate)"


def _not_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def validate_answer(content: str, columns: dict[str, Column]) -> tuple[dict[str, Any], str | None]:
    """Parse a JSON answer and check it against the declared columns; (values, problem).

    Nested values are checked all the way down; a problem names its path, e.g.
    `'tags[2]' is 'x', not one of a, b`. Values come back as Python lists and dicts, every
    declared key present (null when an optional one is missing).
    """
    data, problem = _json_object(content)
    if problem:
        return {}, problem
    values, problem = _check_object(data, columns, "")
    return (values, None) if problem is None else ({}, problem)


def _check_object(data: dict[str, Any], columns: dict[str, Column],
                  path: str) -> tuple[dict[str, Any], str | None]:
    extra = sorted(set(data) - set(columns))
    if extra:
        return {}, f"{f'{path!r}' if path else 'answer'} has undeclared keys: {', '.join(extra)}"
    values: dict[str, Any] = {}
    for name, column in columns.items():
        at = f"{path}.{name}" if path else name
        if data.get(name) is None:
            if column.required:
                return {}, f"answer is missing required '{at}'"
            values[name] = None
            continue
        value, problem = _check(data[name], column, at)
        if problem:
            return {}, problem
        values[name] = value
    return values, None


def _check(value: Any, column: Column, at: str) -> tuple[Any, str | None]:
    """A present (non-null) value checked against its column; problems name `at`."""
    if column.type == "object":
        if not isinstance(value, dict):
            return None, f"'{at}' is not an object: {_show(value)}"
        return _check_object(value, column.properties or {}, at)
    if column.type == "array":
        return _check_array(value, column, at)
    checked, problem = _check_value(value, column)
    return (checked, None) if problem is None else (None, f"'{at}' {problem}")


def _check_array(value: Any, column: Column, at: str) -> tuple[Any, str | None]:
    if not isinstance(value, list):
        return None, f"'{at}' is not an array: {_show(value)}"
    n = len(value)
    if column.min_items is not None and n < column.min_items:
        return None, f"'{at}' has {_items(n)}, fewer than min_items {column.min_items}"
    if column.max_items is not None and n > column.max_items:
        return None, f"'{at}' has {_items(n)}, more than max_items {column.max_items}"
    assert column.items is not None  # the spec requires items on arrays
    out = []
    for index, item in enumerate(value):
        if item is None:  # items are never optional (the spec refuses `required` on them)
            return None, f"'{at}[{index}]' is null"
        checked, problem = _check(item, column.items, f"{at}[{index}]")
        if problem:
            return None, problem
        out.append(checked)
    return out, None


def _check_value(value: Any, column: Column) -> tuple[Any, str | None]:
    kind = column.type
    if kind == "boolean":
        return (value, None) if isinstance(value, bool) else (None, f"is not a boolean: "
                                                                    f"{_show(value)}")
    if kind == "string":
        if not isinstance(value, str):
            return None, f"is not a string: {_show(value)}"
        if column.enum is not None and value not in column.enum:
            return None, f"is {_show(value)}, not one of {', '.join(column.enum)}"
        return value, None
    # JSON booleans are not numbers, even though Python's bool is an int.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"is not a number: {_show(value)}"
    if kind == "integer":
        if isinstance(value, float) and not value.is_integer():
            return None, f"is not an integer: {value!r}"
        value = int(value)
        if not _INT64[0] <= value <= _INT64[1]:  # would not fit the BIGINT column
            return None, f"is {value}, outside the 64-bit integer range"
    else:
        try:
            value = float(value)
        except OverflowError:  # an integer too large for a double
            value = math.inf
        if not math.isfinite(value):
            return None, f"is not a finite number: {_show(value)}"
    if column.minimum is not None and value < column.minimum:
        return None, f"is {value}, below the minimum {column.minimum:g}"
    if column.maximum is not None and value > column.maximum:
        return None, f"is {value}, above the maximum {column.maximum:g}"
    return value, None


def _read_embedding(outcome: Outcome, body: dict[str, Any], dimensions: Any) -> Outcome:
    data = body.get("data")
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        outcome.error = "response has no embedding data"
        return outcome
    vector, problem = decode_embedding(data[0].get("embedding"))
    if problem is None and dimensions is not None and len(vector) != dimensions:
        problem = f"embedding has {len(vector)} dimensions, not the {dimensions} asked for"
    if problem:
        outcome.status, outcome.error = INVALID_OUTPUT, problem
    else:
        outcome.status, outcome.values = SUCCEEDED, {EMBEDDING_COLUMN: vector}
    return outcome


def decode_embedding(value: Any) -> tuple[array[float], str | None]:
    """An embedding from a JSON list or base64 little-endian float32; (vector, problem).

    The vector is an ``array('f')``: 4 bytes a value where a list of floats takes 32, which
    matters for a slice of 10,000 vectors of 3,072 dimensions.
    """
    vector: array[float] = array("f")
    if isinstance(value, str):
        try:
            packed = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return vector, "embedding is not valid base64"
        if len(packed) % 4:
            return vector, f"base64 embedding has {len(packed)} bytes, not whole float32 values"
        vector.frombytes(packed)
        if sys.byteorder == "big":
            vector.byteswap()
    elif isinstance(value, list) and all(isinstance(x, int | float) and not isinstance(x, bool)
                                         for x in value):
        # Checked before packing: float32 would turn a value past its range into infinity.
        if not all(abs(x) <= _FLOAT32_MAX for x in value):
            return vector, "embedding has a value that is not a finite float32"
        vector.fromlist([float(x) for x in value])
    else:
        return vector, f"embedding is neither a list of numbers nor base64 text: {_show(value)}"
    if not vector:
        return vector, "embedding is empty"
    if not all(math.isfinite(x) for x in vector):
        return vector, "embedding has a value that is not a finite float32"
    return vector, None


def _show(value: Any) -> str:
    """A JSON value for a message, shortened: answers can be long."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _items(n: int) -> str:
    return f"{n} item" if n == 1 else f"{n} items"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
