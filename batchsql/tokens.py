"""Input token counts of requests, as the provider will bill them.

Pure: used by the planner (cost before spending), the budget, the enqueued-token quota and the
emulator's ``usage`` figures.

Counts are exact for the models whose tokenizer batchsql knows (``encoding_for_model``): the
``bpe-openai`` package ships OpenAI's o200k_base and cl100k_base tables, so nothing is ever
downloaded. Chat requests are counted as OpenAI publishes it (cookbook, "How to count tokens
with tiktoken"): 3 tokens per message, the tokens of each of its string values (role, content,
name), 1 more per ``name``, and 3 for priming the reply. Text that looks like a special token
(``<|endoftext|>``) is counted as the plain text it is. Any other model falls back to
``plan.estimate_input_tokens`` of the request's canonical JSON; ``is_exact`` tells which.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from batchsql import plan

CHAT = plan.CHAT_COMPLETIONS
EMBEDDINGS = "/v1/embeddings"

#: OpenAI's published per-message overheads for chat models (gpt-3.5-turbo-0125 onwards).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3  # every reply is primed with <|start|>assistant<|message|>

#: Longest text encoded in one call. bpe-openai refuses 1M characters or 200k tokens at once;
#: a character is at most 4 tokens (one per UTF-8 byte), so 40k characters always pass.
PIECE = 40_000

# Model families, as tiktoken maps them (its model.py), plus dated snapshots and variants of
# each: `gpt-4o-mini-2024-07-18` is counted as gpt-4o-mini. o200k is tried first, so `gpt-4o`
# never falls into cl100k's `gpt-4`.
_FAMILIES = (
    (re.compile(r"(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5(?:\.\d+)?|o1|o3|o4)(?:-.+)?"),
     "o200k_base"),
    (re.compile(r"(?:gpt-4|gpt-3\.5-turbo|gpt-3\.5|gpt-35-turbo|text-embedding-3-small"
                r"|text-embedding-3-large|text-embedding-ada-002|davinci-002|babbage-002)"
                r"(?:-.+)?"), "cl100k_base"),
)


@lru_cache(maxsize=256)  # called once per row with the same few model names
def encoding_for_model(model: str) -> str | None:
    """The tokenizer a model uses (``o200k_base``, ``cl100k_base``), or None when unknown.

    Fine-tuned models (``ft:gpt-4o-mini-2024-07-18:org::id``) use their base model's.
    """
    if model.startswith("ft:"):
        model = model[3:].split(":", 1)[0]
    for pattern, encoding in _FAMILIES:
        if pattern.fullmatch(model):
            return encoding
    return None


def is_exact(model: str) -> bool:
    """Whether counts for this model are exact (chat and embeddings requests), not estimates."""
    return encoding_for_model(model) is not None


def count_text(model: str, text: str) -> int:
    """Tokens of a plain text (an answer, an embeddings input) for ``model``."""
    counter = _counter_for(model)
    return counter.text(text) if counter is not None else plan.estimate_input_tokens(text)


def count_input_tokens(url: str, body: dict[str, Any]) -> int:
    """Input tokens of one request body sent to ``url``; never raises for a JSON-like body.

    Chat: a ``response_format`` json_schema and ``tools`` are billed too, in a form OpenAI does
    not publish; they count as the tokens of their canonical JSON (for json_schema, of its
    ``schema``): close, on the high side, not exact (the cookbook's tool example counts 120
    where the API billed 101). Image and audio parts are not counted.
    Embeddings: the tokens of ``input`` (a string, strings, or token-id lists by length).
    """
    model = body.get("model")
    counter = _counter_for(model) if isinstance(model, str) else None
    if counter is None or url not in (CHAT, EMBEDDINGS):
        return plan.estimate_input_tokens(_json_text(body))
    if url == EMBEDDINGS:
        return _embedding_tokens(counter, body.get("input"))
    return _chat_tokens(counter, body)


# -- counting -------------------------------------------------------------------------------------

class _Counter:
    """Token counts with one encoding; remembers texts that repeat from row to row."""

    MEMO_TEXTS, MEMO_CHARS = 4096, 4_000_000  # bounded over a huge, varied table

    def __init__(self, count: Callable[[str], int]) -> None:
        self.count = count
        self.memo: dict[str, int] = {}
        self.memo_chars = 0

    def text(self, text: str) -> int:
        if len(text) <= PIECE:
            return self.count(_valid(text))
        return sum(self.count(_valid(piece)) for piece in _pieces(text))

    def repeated(self, text: str) -> int:
        """``text`` for strings that recur across requests: roles, instructions, schemas."""
        n = self.memo.get(text)
        if n is None:
            if len(self.memo) >= self.MEMO_TEXTS or self.memo_chars >= self.MEMO_CHARS:
                self.memo.clear()
                self.memo_chars = 0
            n = self.memo[text] = self.text(text)
            self.memo_chars += len(text)
        return n


def _valid(text: str) -> str:
    """The text with lone surrogates replaced, as the tokenizer's own wrapper does."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


@cache
def _counter(encoding: str) -> _Counter:
    bindings = _bindings()
    if bindings is not None:
        return _Counter(bindings.tokenizer_for_encoding(encoding).count)
    import bpe_openai

    # encode_ordinary: text that looks like a special token is plain text, and never raises.
    ordinary = bpe_openai.get_encoding(encoding).encode_ordinary
    return _Counter(lambda text: len(ordinary(text)))


@cache
def _bindings() -> Any:
    """bpe-openai's Rust tokenizers, loaded without the package's Python layer, or None.

    Importing ``bpe_openai`` builds Python rank tables for three encodings, about a second that
    counting never uses (it needs the Rust tokenizer only, whose ``count`` is the length of the
    package's ``encode_ordinary``; tests/test_tokens.py holds it to tiktoken's algorithm).
    """
    loaded = sys.modules.get("bpe_openai._bindings")
    if loaded is not None:
        return loaded
    try:
        spec = importlib.util.find_spec("bpe_openai")
        folder = Path(next(iter(spec.submodule_search_locations or ())))  # type: ignore[union-attr]
        path = next(p for p in folder.iterdir() if p.name.startswith("_bindings.")
                    and p.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)))
        loader = importlib.machinery.ExtensionFileLoader("bpe_openai._bindings", str(path))
        module = importlib.util.module_from_spec(
            importlib.util.spec_from_file_location("bpe_openai._bindings", path, loader=loader))
        loader.exec_module(module)
        return module
    except (ImportError, OSError, StopIteration, AttributeError, TypeError):
        return None  # a differently built package: its public API it is


def _counter_for(model: str) -> _Counter | None:
    encoding = encoding_for_model(model)
    return _counter(encoding) if encoding is not None else None


def _pieces(text: str) -> Iterator[str]:
    """``text`` in pieces of at most PIECE characters that count the same as the whole.

    Cuts go before a space that follows a letter: no pre-tokenizer match of o200k or cl100k
    contains a letter followed by a space, and none looks behind, so each piece tokenizes as
    it would inside the text. A stretch with no such space (CJK without spaces, base64) is
    cut where it must be, which can be off by a token per cut.
    """
    start = 0
    while len(text) - start > PIECE:
        cut = text.rfind(" ", start + 1, start + PIECE + 1)
        while cut > start and not text[cut - 1].isalpha():
            cut = text.rfind(" ", start + 1, cut)
        if cut <= start:
            cut = start + PIECE
        yield text[start:cut]
        start = cut
    yield text[start:]


def _chat_tokens(counter: _Counter, body: dict[str, Any]) -> int:
    total = REPLY_PRIMING
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, dict):
            continue
        total += TOKENS_PER_MESSAGE
        # Instructions and few-shot turns repeat on every row; the user's turn rarely does.
        user = message.get("role") == "user"
        for key, value in message.items():
            if key == "name":
                total += TOKENS_PER_NAME
            if isinstance(value, str):
                total += counter.text(value) if user and key == "content" else (
                    counter.repeated(value))
            elif key == "content" and isinstance(value, list):
                total += sum(counter.text(part["text"]) for part in value
                             if isinstance(part, dict) and isinstance(part.get("text"), str))
            elif value is not None:  # tool_calls and the like: their JSON, as an estimate
                total += counter.repeated(_json_text(value))
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema")
        if isinstance(spec, dict) and spec.get("schema") is not None:
            total += counter.repeated(_json_text(spec["schema"]))
    if body.get("tools"):
        total += counter.repeated(_json_text(body["tools"]))
    return total


def _embedding_tokens(counter: _Counter, inputs: Any) -> int:
    if isinstance(inputs, str):
        return counter.text(inputs)
    if not isinstance(inputs, list):
        return 0
    if inputs and all(isinstance(i, int) for i in inputs):
        return len(inputs)  # one input given as token ids
    return sum(counter.text(item) if isinstance(item, str) else
               len(item) if isinstance(item, list) else 0 for item in inputs)


def _json_text(value: Any) -> str:
    """Canonical JSON, or a lenient rendering of what canonical JSON refuses (NaN)."""
    try:
        return plan.canonical_json(value)
    except (TypeError, ValueError):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                          default=str)
