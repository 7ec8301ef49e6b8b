"""Validating a batch input file in one streaming pass, the way the real API fails a batch.

Checks: JSON per line, required fields, method, ``url`` equal to the batch endpoint, unique
``custom_id``, one ``body.model`` for the whole file, no streaming, the line and size limits,
and the fault knobs fail_validation and invalid_match. Any error fails the batch; ``errors.data``
lists them with 1-based line numbers. It also counts the input tokens that ``quota.py`` checks
against ``token_limit`` (which depends on other batches, so it is not checked here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .answers import prompt_tokens
from .faults import Faults

MAX_VALIDATION_ERRORS = 1000  # past this, errors.data is cut (the batch fails either way)


def _error(code: str, message: str, param: str | None = None,
           line: int | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": param, "line": line}


def peek_model(path: Path) -> str | None:
    """The model named on the first line of an input file, shown on a batch before validation."""
    try:
        with open(path, "rb") as f:
            for raw in f:
                if raw.strip():
                    body = json.loads(raw).get("body")
                    model = body.get("model") if isinstance(body, dict) else None
                    return model if isinstance(model, str) else None
    except (OSError, ValueError, AttributeError):
        return None
    return None


def validate_input(path: Path, endpoint: str, faults: Faults,
                   count_tokens: bool = True) -> dict[str, Any]:
    """One streaming pass over the input: every reason the real API fails a batch up front.

    ``tokens`` is None unless ``count_tokens``: counting is most of the cost of a pass, and
    only the token quota needs it (``quota.input_tokens`` counts when it was skipped).
    """
    errors: list[dict[str, Any]] = []
    if faults.fail_validation:
        errors.append(_error("invalid_request", "[batchsql emulator] This batch failed "
                             "validation because the fail_validation fault is set."))
    size = path.stat().st_size
    if size > faults.max_bytes:
        errors.append(_error("invalid_request", f"The input file is {size} bytes, above the "
                             f"maximum of {faults.max_bytes} bytes per batch."))
        return {"total": 0, "model": None, "errors": errors, "tokens": 0}
    invalid = faults.invalid_match.encode("utf-8") if faults.invalid_match else None
    seen: set[str] = set()
    model: str | None = None
    total = tokens = 0
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if len(errors) >= MAX_VALIDATION_ERRORS:
                break
            if not raw.strip():
                continue
            total += 1
            if total > faults.max_requests:
                errors.append(_error("invalid_request", f"The input file has more than "
                                     f"{faults.max_requests} requests.", line=lineno))
                break
            if invalid is not None and invalid in raw:
                errors.append(_error("invalid_request", "[batchsql emulator] This line "
                                     "matches the invalid_match fault.", line=lineno))
                continue
            try:
                req = json.loads(raw)
            except ValueError:
                req = None
            if not isinstance(req, dict):
                errors.append(_error("invalid_json_line", "This line is not parseable as "
                                     "valid JSON.", line=lineno))
                continue
            missing = [k for k in ("custom_id", "method", "url", "body") if k not in req]
            if missing:
                errors.append(_error("missing_required_parameter", "Missing required "
                                     f"parameter: '{missing[0]}'.", missing[0], lineno))
                continue
            err = _check_line(req, endpoint, seen, model)
            if err is not None:
                code, message, param = err
                errors.append(_error(code, message, param, lineno))
                continue
            model = model or req["body"]["model"]
            if count_tokens:
                tokens += prompt_tokens(endpoint, req["body"])
    if total == 0 and not errors:
        errors.append(_error("empty_file", "The input file has no requests."))
    return {"total": total, "model": model, "errors": errors,
            "tokens": tokens if count_tokens else None}


def _check_line(req: dict[str, Any], endpoint: str, seen: set[str],
                model: str | None) -> tuple[str, str, str | None] | None:
    custom_id, body = req["custom_id"], req["body"]
    if not isinstance(custom_id, str) or not custom_id:
        return "invalid_request", "custom_id must be a non-empty string.", "custom_id"
    if custom_id in seen:
        return ("duplicate_custom_id", f"The custom_id '{custom_id}' is duplicated; each "
                "request in a batch needs a unique custom_id.", "custom_id")
    seen.add(custom_id)
    if req["method"] != "POST":
        return "invalid_request", "Only the POST method is supported.", "method"
    if req["url"] != endpoint:
        return ("invalid_url", f"The URL provided for this request does not match the batch "
                f"endpoint {endpoint}.", "url")
    if not isinstance(body, dict):
        return "invalid_request", "body must be a JSON object.", "body"
    if body.get("stream") is True:
        return "streaming_unsupported", "Streaming is not supported in batches.", "body.stream"
    if not isinstance(body.get("model"), str):
        return "missing_required_parameter", "Missing required parameter: 'model'.", "body.model"
    if model is not None and body["model"] != model:
        return ("mismatched_model", f"The model '{body['model']}' does not match the model "
                f"'{model}' of the other requests; a batch takes one model.", "body.model")
    return None
