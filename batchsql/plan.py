"""Requests, fingerprints, custom_ids and chunking: pure functions over plain data.

The fingerprint of a request is the SHA-256 (hex) of the UTF-8 bytes of

    <endpoint url> "\n" <canonical JSON of the request body>

where canonical JSON is RFC 8259 JSON with object keys sorted by code point, no insignificant
whitespace, non-ASCII characters written as themselves (UTF-8), and only the escapes JSON requires
(\\" \\\\ \\b \\f \\n \\r \\t, other control characters as lowercase \\u00xx). Any code path that
emits the same canonical form (Python today, SQL later) produces the same fingerprint, so an
upgrade never makes finished rows pending again.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from batchsql.spec import Spec, answer_kind, output_schema

CHAT_COMPLETIONS = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
#: The json_schema name in every typed request. Fixed, not the spec's name: renaming a spec
#: must not change its requests' fingerprints (and pay for every row again).
SCHEMA_NAME = "batchsql_output"


def canonical_json(value: Any) -> str:
    """The canonical JSON text of a value (see the module docstring)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def build_chat_body(model: str, messages: Sequence[dict[str, str]], params: dict[str, Any],
                    schema: dict[str, Any] | None,
                    schema_name: str = SCHEMA_NAME) -> dict[str, Any]:
    """A /v1/chat/completions body: spec params merged in, a strict json_schema when typed."""
    body: dict[str, Any] = {**params, "model": model, "messages": list(messages)}
    if schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": schema_name, "strict": True, "schema": schema},
        }
    return body


def build_embeddings_body(model: str, text: str, params: dict[str, Any]) -> dict[str, Any]:
    """A /v1/embeddings body: one input text, spec params merged in."""
    # base64 vectors make result files about 4x smaller than JSON float lists; a spec that
    # sets encoding_format keeps its own.
    return {"encoding_format": "base64", **params, "model": model, "input": text}


def request_url(spec: Spec) -> str:
    """The provider endpoint every request of a spec goes to."""
    return EMBEDDINGS if spec.endpoint == "embeddings" else CHAT_COMPLETIONS


def build_body(spec: Spec, rendered: str | Sequence[dict[str, str]]) -> dict[str, Any]:
    """The request body of one row, from what its prompt rendered to (text for embeddings)."""
    kind = answer_kind(spec)
    if kind == "embedding":
        assert isinstance(rendered, str)
        return build_embeddings_body(spec.model, rendered, spec.params)
    assert not isinstance(rendered, str)
    body = build_chat_body(spec.model, rendered, spec.params, output_schema(spec))
    if kind == "json":
        body["response_format"] = {"type": "json_object"}
    return body


def fingerprint(url: str, body_json: str) -> str:
    """Fingerprint of a request whose body is already in canonical JSON."""
    return hashlib.sha256(f"{url}\n{body_json}".encode()).hexdigest()


#: Batch uuids begin with when they were made (see new_batch_uuid): milliseconds since this.
_UUID_EPOCH_MS = 1_577_836_800_000  # 2020-01-01 UTC; 8 base-36 digits last until 2109
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_batch_uuid() -> str:
    """batchsql's own id for a batch, chosen before anything is uploaded.

    Eight base-36 digits of the time it was made in milliseconds, then 12 random hex digits:
    the uuids of batches made one after another sort in that order. The request maps are
    written in that order too, so a query for one batch's map skips the row groups whose
    smallest and largest uuid leave it out (DuckDB keeps a string column's min and max by its
    first 8 bytes). With random uuids each such query read every map, which made collecting a
    run of B batches read B times the maps of all of them.
    """
    ms = max(0, time.time_ns() // 1_000_000 - _UUID_EPOCH_MS)
    digits = []
    for _ in range(8):
        ms, digit = divmod(ms, 36)
        digits.append(_BASE36[digit])
    return "".join(reversed(digits)) + uuid.uuid4().hex[:12]


def custom_id(batch_uuid: str, seq: int) -> str:
    """Request id inside a batch; fits every provider's custom_id rules ([A-Za-z0-9_-]{1,64})."""
    return f"{batch_uuid}-{seq}"


def custom_ids_like(batch_uuid: str) -> str:
    """A SQL LIKE pattern matching every custom_id of one batch (uuids hold no % or _)."""
    return f"{batch_uuid}-%"


def encode_line(custom_id: str, url: str, body_json: str) -> bytes:
    """One line of an OpenAI batch input file (JSONL), newline included."""
    head = canonical_json({"custom_id": custom_id, "method": "POST", "url": url})
    return f'{head[:-1]},"body":{body_json}}}\n'.encode()


def estimate_input_tokens(body_json: str) -> int:
    """A quick upper-side token estimate: about four characters of JSON per token."""
    return math.ceil(len(body_json) / 4)


@dataclass(frozen=True)
class Limits:
    """What one provider batch may hold; ``max_tokens`` caps everything enqueued at once."""

    max_requests: int
    max_bytes: int
    max_tokens: int | None = None


@dataclass
class Chunk:
    """The running size of the batch being filled."""

    limits: Limits
    requests: int = 0
    bytes: int = 0

    def fits(self, line_bytes: int) -> bool:
        """Whether one more line of this size stays within the limits."""
        return (self.requests + 1 <= self.limits.max_requests
                and self.bytes + line_bytes <= self.limits.max_bytes)

    def add(self, line_bytes: int) -> None:
        self.requests += 1
        self.bytes += line_bytes

    def never_fits(self, line_bytes: int, tokens: int) -> str | None:
        """Why a single request can never be sent (larger than any batch may be), or None."""
        if line_bytes > self.limits.max_bytes:
            return (f"request is {line_bytes:,} bytes, over the provider's limit of "
                    f"{self.limits.max_bytes:,} bytes per batch file")
        if self.limits.max_tokens is not None and tokens > self.limits.max_tokens:
            return (f"request is about {tokens:,} input tokens, over the enqueued-token limit "
                    f"of {self.limits.max_tokens:,} for this model")
        return None
