"""Exact offline token counts: the published chat formula, embeddings, long texts, fallbacks.

Expected values are built from the encoder on each text plus OpenAI's documented constants
(3 per message, 1 per name, 3 to prime the reply), never from batchsql.tokens itself; the
encoder is checked against tiktoken's reference algorithm (pattern split, then byte-pair merges).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from typing import Any

import bpe_openai
import openai
import pytest
import regex
from bpe_openai import registry

from batchsql import plan, tokens
from batchsql.emulator import EmulatorServer
from batchsql.tokens import CHAT, EMBEDDINGS, count_input_tokens, count_text
from tests.test_emulator import read_jsonl, submit

O200K = bpe_openai.get_encoding("o200k_base")
CL100K = bpe_openai.get_encoding("cl100k_base")


def n(text: str, encoding: Any = O200K) -> int:
    return len(encoding.encode_ordinary(text))


# The cookbook's example ("How to count tokens with tiktoken"), with the prompt_tokens the
# OpenAI API reported for it: 124 for gpt-4o and gpt-4o-mini, 129 for gpt-4 and gpt-3.5-turbo.
COOKBOOK = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant that "
     "translates corporate jargon into plain English."},
    {"role": "system", "name": "example_user",
     "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant",
     "content": "Things working well together will increase revenue."},
    {"role": "system", "name": "example_user", "content": "Let's circle back when we have more "
     "bandwidth to touch base on opportunities for increased leverage."},
    {"role": "system", "name": "example_assistant",
     "content": "Let's talk later when we're less busy about how to do better."},
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean "
     "for the client deliverable."},
]


@pytest.mark.parametrize(("model", "billed"), [
    ("gpt-4o", 124), ("gpt-4o-mini", 124), ("gpt-4o-mini-2024-07-18", 124),
    ("gpt-4-0613", 129), ("gpt-4", 129), ("gpt-3.5-turbo", 129)])
def test_the_cookbook_example_counts_what_the_api_billed(model: str, billed: int) -> None:
    assert count_input_tokens(CHAT, {"model": model, "messages": COOKBOOK}) == billed
    assert tokens.is_exact(model)


def test_chat_count_is_the_published_formula() -> None:
    system, user = "You label tickets. Réponds en français.", "Subject: Überweisung 😊\nDoppelt!"
    body = {"model": "gpt-4o-mini", "temperature": 0, "messages": [
        {"role": "system", "content": system},
        {"role": "user", "name": "ana", "content": user}]}
    expected = (3 + n("system") + n(system)               # message 1: overhead, role, content
                + 3 + n("user") + n("ana") + 1 + n(user)  # message 2: ... name and its +1
                + 3)                                      # the reply's priming
    assert count_input_tokens(CHAT, body) == expected
    # cl100k counts the same texts differently, and the formula still holds.
    body["model"] = "gpt-4-turbo"
    assert count_input_tokens(CHAT, body) == (
        3 + n("system", CL100K) + n(system, CL100K)
        + 3 + n("user", CL100K) + n("ana", CL100K) + 1 + n(user, CL100K) + 3)
    assert n(user) != n(user, CL100K)


def test_special_token_text_is_plain_text() -> None:
    text = "Ignore this: <|endoftext|><|endofprompt|><|fim_prefix|>"
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}
    assert count_input_tokens(CHAT, body) == 3 + n("user") + n(text) + 3
    assert count_text("gpt-4o", "<|endoftext|>") == n("<|endoftext|>") == 7  # not 1 special
    assert count_text("gpt-4", "<|endoftext|>") == n("<|endoftext|>", CL100K) > 1


def test_content_parts_count_their_text_parts() -> None:
    parts = [{"type": "text", "text": "Describe this:"},
             {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
             {"type": "text", "text": " and this — naïvely."}]
    body = {"model": "o3-mini", "messages": [{"role": "user", "content": parts}]}
    assert count_input_tokens(CHAT, body) == (
        3 + n("user") + n("Describe this:") + n(" and this — naïvely.") + 3)


def test_schema_and_tools_count_as_their_canonical_json() -> None:
    schema = {"type": "object", "properties": {"label": {"type": "string", "enum": ["a", "b"]}},
              "required": ["label"], "additionalProperties": False}
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    messages = [{"role": "user", "content": "hi"}]
    body = plan.build_chat_body("gpt-4.1-mini", messages, {"tools": tools}, schema)
    assert count_input_tokens(CHAT, body) == (
        3 + n("user") + n("hi") + 3
        + n(plan.canonical_json(schema)) + n(plan.canonical_json(tools)))
    # json_object mode carries no schema: nothing extra.
    body = {"model": "gpt-4.1", "messages": messages, "response_format": {"type": "json_object"}}
    assert count_input_tokens(CHAT, body) == 3 + n("user") + n("hi") + 3


def test_repeated_texts_are_remembered_within_bounds() -> None:
    # Instructions repeat on every row and are remembered; a table whose every row has its own
    # system prompt must not grow the memory without end, nor change any count.
    counter = tokens._counter("o200k_base")
    for i in range(counter.MEMO_TEXTS + 10):
        system = f"Instructions, version {i}."
        body = {"model": "gpt-4o", "messages": [{"role": "system", "content": system}]}
        assert count_input_tokens(CHAT, body) == 3 + n("system") + n(system) + 3
        assert len(counter.memo) <= counter.MEMO_TEXTS
    assert counter.memo_chars <= counter.MEMO_CHARS

@pytest.mark.parametrize(("inputs", "expected"), [
    ("héllo wörld", n("héllo wörld", CL100K)),
    (["one", "two three"], n("one", CL100K) + n("two three", CL100K)),
    ([101, 202, 303], 3),                        # one input given as token ids
    ([[1, 2], [3, 4, 5], "six"], 2 + 3 + n("six", CL100K)),
    ([], 0),
])
def test_embeddings_count_their_inputs(inputs: Any, expected: int) -> None:
    body = {"model": "text-embedding-3-small", "input": inputs}
    assert count_input_tokens(EMBEDDINGS, body) == expected


def test_unknown_models_fall_back_to_the_estimate() -> None:
    body = {"model": "my-local-llama", "messages": [{"role": "user", "content": "x" * 37}]}
    assert not tokens.is_exact("my-local-llama")
    assert count_input_tokens(CHAT, body) == plan.estimate_input_tokens(plan.canonical_json(body))
    assert count_text("my-local-llama", "x" * 37) == 10  # ceil(37 / 4)
    # A known model on an endpoint batchsql does not count exactly is estimated too.
    known = {"model": "gpt-4o", "input": "x" * 37}
    assert count_input_tokens("/v1/responses", known) == plan.estimate_input_tokens(
        plan.canonical_json(known))
    # Bodies that are not requests never raise.
    assert count_input_tokens(CHAT, {"model": "gpt-4o", "messages": "nope"}) == 3
    assert count_input_tokens(CHAT, {"messages": [1, None]}) > 0
    assert count_text("gpt-4o", "a\ud800b") == n("a\ufffdb")  # a lone surrogate (from JSON)


@pytest.mark.parametrize(("model", "encoding"), [
    ("gpt-4o", "o200k_base"), ("gpt-4o-mini-2024-07-18", "o200k_base"),
    ("gpt-4o-2024-05-13", "o200k_base"), ("chatgpt-4o-latest", "o200k_base"),
    ("gpt-4.1-nano-2025-04-14", "o200k_base"), ("gpt-4.5-preview", "o200k_base"),
    ("gpt-5", "o200k_base"), ("gpt-5-mini-2025-08-07", "o200k_base"), ("gpt-5.1", "o200k_base"),
    ("o1", "o200k_base"), ("o1-2024-12-17", "o200k_base"), ("o3-mini", "o200k_base"),
    ("o4-mini-2025-04-16", "o200k_base"), ("ft:gpt-4o-mini-2024-07-18:acme::abc123", "o200k_base"),
    ("gpt-4", "cl100k_base"), ("gpt-4-0613", "cl100k_base"), ("gpt-4-turbo", "cl100k_base"),
    ("gpt-4-turbo-2024-04-09", "cl100k_base"), ("gpt-3.5-turbo-0125", "cl100k_base"),
    ("gpt-35-turbo", "cl100k_base"), ("text-embedding-3-large", "cl100k_base"),
    ("text-embedding-ada-002", "cl100k_base"), ("ft:gpt-3.5-turbo-0125:acme::x", "cl100k_base"),
    ("claude-sonnet-4", None), ("gpt-4x", None), ("o2", None), ("my-gpt-4o", None), ("", None),
    ("GPT-4o", None),  # model ids are case-sensitive at OpenAI
])
def test_models_map_to_their_family_encoding(model: str, encoding: str | None) -> None:
    assert tokens.encoding_for_model(model) == encoding


# -- the encoder itself, against tiktoken's reference algorithm -----------------------------------

def reference_count(encoding: str, text: str) -> int:
    """tiktoken's algorithm in plain Python: split by the pattern, then merge byte pairs."""
    meta = getattr(registry, encoding)()
    ranks: dict[bytes, int] = meta["mergeable_ranks"]
    total = 0
    for piece in regex.findall(meta["pat_str"], text):
        parts = [bytes([b]) for b in piece.encode("utf-8")]
        while len(parts) > 1:
            pairs = [(ranks.get(parts[i] + parts[i + 1]), i) for i in range(len(parts) - 1)]
            rank, i = min(((r, i) for r, i in pairs if r is not None), default=(None, 0))
            if rank is None:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        total += len(parts)
    return total


TRICKY = ["hello world", "  leading   spaces\n\n\ntrailing  \t", "don't I'LL we've 1234567 3.14",
          "Die Rechnung wurde doppelt abgebucht – bitte erstatten. 😊", "日本語、句読点。",
          "naïve café e\u0301 Ω≈ç√", "```python\ndef f(x):\n    return x**2\n```",
          "<|endoftext|> <|fim_prefix|>", "x" * 3000, "ab " * 500]


@pytest.mark.parametrize(("model", "encoding"), [("gpt-4o", "o200k_base"),
                                                 ("gpt-4", "cl100k_base")])
def test_counts_match_the_reference_algorithm(model: str, encoding: str) -> None:
    rng = random.Random(7)
    alphabet = "abcdefghij ABC 0123 .,;'!?\n\t é日本😊-_/"
    texts = TRICKY + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 200)))
                      for _ in range(150)]
    assert [count_text(model, t) for t in texts] == [reference_count(encoding, t) for t in texts]


def test_long_texts_are_cut_where_the_count_does_not_change() -> None:
    rng = random.Random(3)
    words = ["Hello", "world,", "naïve", "日本語", "😊", "1234", "don't", "\n\n", "x-y", " ", "\t"]
    text = " ".join(rng.choice(words) for _ in range(3 * tokens.PIECE // 5))
    assert len(text) > 2 * tokens.PIECE
    assert count_text("gpt-4o", text) == n(text)  # bpe-openai still takes it in one call
    assert count_text("gpt-4", text) == n(text, CL100K)
    # Over a million characters bpe-openai refuses one call; batchsql still counts it.
    reps = 100_000
    huge = "Hello world. " * reps
    assert count_text("gpt-4o", huge) == (
        n("Hello world.") + (reps - 1) * n(" Hello world.") + n(" "))


def test_text_without_safe_cuts_is_counted_nearly_exactly() -> None:
    text = "".join(random.Random(5).choice("日本語のテキスト漢字仮名") for _ in range(90_000))
    cuts = len(text) // tokens.PIECE
    assert abs(count_text("gpt-4o", text) - n(text)) <= cuts


# -- the emulator reports these counts ----------------------------------------------------------

def test_emulator_usage_is_the_exact_count(srv: EmulatorServer, client: openai.OpenAI) -> None:
    schema = {"type": "object", "properties": {"label": {"type": "string",
              "enum": ["billing", "bug", "other"]}}, "required": ["label"],
              "additionalProperties": False}
    bodies = [
        plan.build_chat_body("gpt-4o-mini", [
            {"role": "system", "content": "You label tickets."},
            {"role": "user", "content": f"Ticket {i}: doppelt abgebucht 😊 <|endoftext|>"}],
            {"temperature": 0}, schema)
        for i in range(3)]
    bodies.append({"model": "gpt-4o-mini", "messages": [
        {"role": "user", "name": "ana", "content": [{"type": "text", "text": "plain answer"}]}]})
    lines = [{"custom_id": f"c{i}", "method": "POST", "url": CHAT, "body": body}
             for i, body in enumerate(bodies)]
    batch = client.batches.retrieve(submit(client, lines).id)
    assert batch.status == "completed" and batch.usage is not None
    out = {o["custom_id"]: o["response"]["body"] for o in read_jsonl(client, batch.output_file_id)}
    for i, body in enumerate(bodies):
        usage, content = out[f"c{i}"]["usage"], out[f"c{i}"]["choices"][0]["message"]["content"]
        assert usage["prompt_tokens"] == count_input_tokens(CHAT, body)
        assert usage["completion_tokens"] == n(content)
    assert batch.usage.input_tokens == sum(count_input_tokens(CHAT, b) for b in bodies)

    inputs = ["héllo wörld", ["two", "strings"], [[1, 2, 3], "mixed"]]
    lines = [{"custom_id": f"e{i}", "method": "POST", "url": EMBEDDINGS,
              "body": {"model": "text-embedding-3-small", "input": x}}
             for i, x in enumerate(inputs)]
    batch = client.batches.retrieve(submit(client, lines, EMBEDDINGS).id)
    out = {o["custom_id"]: o["response"]["body"] for o in read_jsonl(client, batch.output_file_id)}
    for line in lines:
        assert out[line["custom_id"]]["usage"]["prompt_tokens"] == count_input_tokens(
            EMBEDDINGS, line["body"])


def test_emulator_keeps_the_estimate_for_unknown_models(srv: EmulatorServer,
                                                        client: openai.OpenAI) -> None:
    body = {"model": "my-local-llama", "messages": [{"role": "user", "content": "x" * 37}]}
    batch = client.batches.retrieve(submit(client, [
        {"custom_id": "u", "method": "POST", "url": CHAT, "body": body}]).id)
    usage = read_jsonl(client, batch.output_file_id)[0]["response"]["body"]["usage"]
    assert usage["prompt_tokens"] == 3 + 4 + 10  # chat 3 + per message 4 + ceil(37 / 4)


def test_counting_loads_only_the_rust_tokenizer() -> None:
    # A fresh interpreter: the package's Python layer (a second of rank tables) stays unloaded,
    # and the counts are the package's own.
    code = textwrap.dedent("""
        import json, sys
        from batchsql import tokens
        texts = ["hello <|endoftext|> world", "Ünïcödé 😀 日本語", "don't  \\n\\n 123456"]
        counts = [tokens.count_text(m, t) for m in ("gpt-4o-mini", "gpt-4") for t in texts]
        print(json.dumps({"package": "bpe_openai" in sys.modules, "counts": counts}))
    """)
    out = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                    capture_output=True, text=True).stdout)
    assert out["package"] is False
    texts = ["hello <|endoftext|> world", "Ünïcödé 😀 日本語", "don't  \n\n 123456"]
    assert out["counts"] == [len(enc.encode_ordinary(t)) for enc in (O200K, CL100K)
                             for t in texts]
