"""Provider result lines -> outcomes: pure parsing and validation of answers.

A line that cannot be parsed, an error the provider returned for one request, and an answer that
does not match the declared columns are all outcomes, never exceptions.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from batchsql.spec import Column

SUCCEEDED = "succeeded"
FAILED = "failed"
INVALID_OUTPUT = "invalid_output"
EXPIRED = "expired"
CANCELLED = "cancelled"
MISSING = "missing"

#: Outcomes that spend one of a row's `max_attempts` (expired/cancelled lines never ran).
ATTEMPT_STATUSES = (FAILED, INVALID_OUTPUT, MISSING)

#: Column holding the answer text when a spec declares no output columns.
ANSWER_COLUMN = "answer"

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


def parse_line(line: bytes, columns: dict[str, Column] | None) -> Outcome:
    """Turn one line of an OpenAI batch output or error file into an outcome."""
    raw = line.decode("utf-8", errors="replace").rstrip("\n")
    try:
        record = json.loads(line)
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
    except ValueError as e:
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
    outcome = Outcome(
        cid, FAILED, raw=raw, model=body.get("model"),
        input_tokens=_int(usage.get("prompt_tokens")),
        output_tokens=_int(usage.get("completion_tokens")),
    )
    status_code = _int(response.get("status_code")) or 0
    if status_code >= 300 or error:
        detail = body.get("error") if isinstance(body.get("error"), dict) else (error or {})
        code = detail.get("code") or detail.get("type") if isinstance(detail, dict) else None
        message = detail.get("message") if isinstance(detail, dict) else None
        outcome.error = f"HTTP {status_code} {code or 'error'}: {message or 'no message'}"
        return outcome
    return _read_answer(outcome, body, columns)


def _read_answer(outcome: Outcome, body: dict[str, Any],
                 columns: dict[str, Column] | None) -> Outcome:
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
    if columns is None:
        outcome.status, outcome.values = SUCCEEDED, {ANSWER_COLUMN: content}
        return outcome
    if choice.get("finish_reason") == "length":
        outcome.status = INVALID_OUTPUT
        outcome.error = "answer was cut off at max_tokens before the JSON was complete"
        return outcome
    values, problem = validate_answer(content, columns)
    if problem:
        outcome.status, outcome.error = INVALID_OUTPUT, problem
    else:
        outcome.status, outcome.values = SUCCEEDED, values
    return outcome


def validate_answer(content: str, columns: dict[str, Column]) -> tuple[dict[str, Any], str | None]:
    """Parse a JSON answer and check it against the declared columns; (values, problem)."""
    try:
        data = json.loads(content)
    except ValueError as e:
        return {}, f"answer is not valid JSON: {e}"
    if not isinstance(data, dict):
        return {}, f"answer is a JSON {type(data).__name__}, expected an object"
    extra = sorted(set(data) - set(columns))
    if extra:
        return {}, f"answer has undeclared keys: {', '.join(extra)}"
    values: dict[str, Any] = {}
    for name, column in columns.items():
        if data.get(name) is None:
            if column.required:
                return {}, f"answer is missing required '{name}'"
            values[name] = None
            continue
        value, problem = _check_value(data[name], column)
        if problem:
            return {}, f"'{name}' {problem}"
        values[name] = value
    return values, None


def _check_value(value: Any, column: Column) -> tuple[Any, str | None]:
    kind = column.type
    if kind == "boolean":
        return (value, None) if isinstance(value, bool) else (None, f"is not a boolean: {value!r}")
    if kind == "string":
        if not isinstance(value, str):
            return None, f"is not a string: {value!r}"
        if column.enum is not None and value not in column.enum:
            return None, f"is {value!r}, not one of {', '.join(column.enum)}"
        return value, None
    # JSON booleans are not numbers, even though Python's bool is an int.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"is not a number: {value!r}"
    if kind == "integer":
        if isinstance(value, float) and not value.is_integer():
            return None, f"is not an integer: {value!r}"
        value = int(value)
    elif not math.isfinite(value):
        return None, f"is not a finite number: {value!r}"
    if column.minimum is not None and value < column.minimum:
        return None, f"is {value}, below the minimum {column.minimum:g}"
    if column.maximum is not None and value > column.maximum:
        return None, f"is {value}, above the maximum {column.maximum:g}"
    return value, None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
