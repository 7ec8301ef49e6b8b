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
from .lines import LineParser

MAX_VALIDATION_ERRORS = 1000  # past this, errors.data is cut (the batch fails either way)

# A LineParser template's memo key: (endpoint, model) once a line of the template passed every
# check. Its other lines differ from that one only in strings elsewhere than _CHECKED_PATHS
# (and the custom_id), so they pass the same checks but the custom_id's: only it is checked.
_CHECKED = "validated"
_CHECKED_PATHS = {("method",), ("url",), ("body",), ("body", "stream"), ("body", "model")}


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
    v = Validator(endpoint, faults, path.stat().st_size, count_tokens)
    if not v.stopped:
        with open(path, "rb") as f:
            for lineno, raw in enumerate(f, 1):
                v.check(lineno, raw)
                if v.stopped:
                    break
    return v.result()


class Validator:
    """Validation one line at a time, so that a pass answering the lines can validate too.

    Feed it every line (``lineno`` counts from 1, blank lines included) until ``stopped``;
    ``result()`` is what ``validate_input`` returns.
    """

    def __init__(self, endpoint: str, faults: Faults, size: int,
                 count_tokens: bool = True) -> None:
        self.endpoint, self.faults, self.count_tokens = endpoint, faults, count_tokens
        self.errors: list[dict[str, Any]] = []
        self.invalid = faults.invalid_match.encode("utf-8") if faults.invalid_match else None
        self.seen: set[str] = set()
        self.parser = LineParser()
        self.model: str | None = None
        self.total = self.tokens = 0
        self.stopped = False
        if faults.fail_validation:
            self.errors.append(_error("invalid_request", "[batchsql emulator] This batch "
                                      "failed validation because the fail_validation fault "
                                      "is set."))
        self.too_big = size > faults.max_bytes
        if self.too_big:
            self.errors.append(_error("invalid_request", f"The input file is {size} bytes, "
                                      f"above the maximum of {faults.max_bytes} bytes per "
                                      "batch."))
            self.stopped = True

    def check(self, lineno: int, raw: bytes) -> dict[str, Any] | None:
        """The parsed request if line ``lineno`` is a valid one, else None (blank or wrong)."""
        errors = self.errors
        if self.stopped or len(errors) >= MAX_VALIDATION_ERRORS:
            self.stopped = True
            return None
        if not raw or raw.isspace():  # blank (``not raw.strip()``, without copying the line)
            return None
        self.total += 1
        if self.total > self.faults.max_requests:
            errors.append(_error("invalid_request", f"The input file has more than "
                                 f"{self.faults.max_requests} requests.", line=lineno))
            self.stopped = True
            return None
        if self.invalid is not None and self.invalid in raw:
            errors.append(_error("invalid_request", "[batchsql emulator] This line "
                                 "matches the invalid_match fault.", line=lineno))
            return None
        try:
            req = self.parser.loads(raw)
        except ValueError:
            req = None
        template = self.parser.template
        if template is not None and template.memo.get(_CHECKED) == (self.endpoint, self.model):
            # All but the custom_id is the template's, which passed: check that alone.
            custom_id = req["custom_id"]
            if isinstance(custom_id, str) and custom_id and custom_id not in self.seen:
                self.seen.add(custom_id)
                if self.count_tokens:
                    self.tokens += prompt_tokens(self.endpoint, req["body"])
                return req
        if not isinstance(req, dict):
            errors.append(_error("invalid_json_line", "This line is not parseable as "
                                 "valid JSON.", line=lineno))
            return None
        if not ("custom_id" in req and "method" in req and "url" in req and "body" in req):
            missing = next(k for k in ("custom_id", "method", "url", "body") if k not in req)
            errors.append(_error("missing_required_parameter", "Missing required "
                                 f"parameter: '{missing}'.", missing, lineno))
            return None
        err = _check_line(req, self.endpoint, self.seen, self.model)
        if err is not None:
            code, message, param = err
            errors.append(_error(code, message, param, lineno))
            return None
        self.model = self.model or req["body"]["model"]
        if template is not None and not any(path in _CHECKED_PATHS for path in template.paths):
            template.memo[_CHECKED] = (self.endpoint, self.model)
        if self.count_tokens:
            self.tokens += prompt_tokens(self.endpoint, req["body"])
        return req

    def result(self) -> dict[str, Any]:
        errors = list(self.errors)
        if self.too_big:
            return {"total": 0, "model": None, "errors": errors, "tokens": 0}
        if self.total == 0 and not errors:
            errors.append(_error("empty_file", "The input file has no requests."))
        return {"total": self.total, "model": self.model, "errors": errors,
                "tokens": self.tokens if self.count_tokens else None}


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
