"""Deterministic answers for chat completions and embeddings.

The emulator never pretends to be a model: free text says it comes from the emulator, and the
same request always gets the same answer. Structured outputs (``response_format`` json_schema)
get JSON that validates against the schema; enums of strings are chosen from the words of the
user's messages (so a ticket about an invoice lands in ``billing``), not at random.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
from typing import Any

from batchsql import tokens

from .lines import Template
from .schema_plan import Plan, compile_plan
from .schema_values import FIELD_TAG, RequestError, SchemaValues, TextContext
from .textmatch import digest, estimate_tokens, text_of, trim

__all__ = [
    "RequestError",
    "chat_completion",
    "chat_completion_json",
    "chat_content",
    "embedding_vector",
    "embeddings",
    "prompt_tokens",
    "templated_user_tokens",
]

EMULATOR_TAG = "[batchsql emulator]"
FINGERPRINT = "batchsql-emulator"


# -- token counts (what usage says, and what Faults.token_limit counts) ------------------------
#
# As the real API bills them (batchsql.tokens) for models whose tokenizer is known; for any other
# model an estimate: chat 3 + per message (4 + ceil(characters of its text / 4)), text
# ceil(characters / 4).

_CHAT_OVERHEAD, _MESSAGE_OVERHEAD = 3, 4


def prompt_tokens(endpoint: str, body: Any) -> int:
    """The ``usage.prompt_tokens`` this request gets when answered; 0 if it cannot be counted.

    Cheap: no answer is built.
    """
    if not isinstance(body, dict):
        return 0
    try:
        if endpoint == "/v1/embeddings":
            return sum(n for _, n in _embedding_inputs(body))
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return 0
        return _chat_prompt_tokens(body, messages)
    except RequestError:
        return 0


def _chat_prompt_tokens(body: dict[str, Any], messages: list[Any]) -> int:
    model = _model_of(body)
    if tokens.is_exact(model):
        return _exact_chat_tokens(model, body, messages)
    return _CHAT_OVERHEAD + sum(_MESSAGE_OVERHEAD + estimate_tokens(text_of(m.get("content")))
                                for m in messages if isinstance(m, dict))


# (frame, its tokens) of the last exact count. A request's frame is the request minus the text
# of its user turns: instructions, schema, tools, overheads. It is the same on every line of a
# typical batch, and counting it (which serialises the schema) cost more than all the rest.
_last_frame: tuple[dict[str, Any], int] | None = None


def _exact_chat_tokens(model: str, body: dict[str, Any], messages: list[Any]) -> int:
    """``tokens.count_input_tokens`` of a chat body, the frame's share remembered.

    Exact: that count adds up its parts, and an empty user text counts 0 tokens, so the whole
    is the frame's count plus the user texts' counts.
    """
    global _last_frame
    user_texts: list[str] = []
    frame_messages: list[Any] = []
    for m in messages:
        if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str):
            user_texts.append(m["content"])
            m = {**m, "content": ""}
        frame_messages.append(m)
    frame = {k: body[k] for k in ("model", "response_format", "tools") if k in body}
    frame["messages"] = frame_messages
    last = _last_frame  # one read: other threads may replace it meanwhile
    if last is not None and last[0] == frame:
        n = last[1]
    else:
        n = tokens.count_input_tokens(tokens.CHAT, frame)
        _last_frame = (frame, n)
    return n + sum(tokens.count_text(model, text) for text in user_texts)


def _text_tokens(body: dict[str, Any], text: str) -> int:
    """Tokens of an answer or an embeddings input (the estimate is count_text's fallback)."""
    return tokens.count_text(_model_of(body), text)


# (model, answer) -> its tokens. Answers repeat far more than requests do (the same labels, the
# same fallback texts), and counting one costs more than the rest of building it.
_answer_counts: dict[tuple[str, str], int] = {}
_ANSWER_MEMO_SIZE = 50_000  # answers of a few hundred characters: some 20 MB at most


def _answer_tokens(body: dict[str, Any], content: str) -> int:
    """``_text_tokens`` of an answer, remembered."""
    global _answer_counts
    model = _model_of(body)
    if len(content) > 10_000:  # long answers are seldom the same twice
        return tokens.count_text(model, content)
    key = (model, content)
    n = _answer_counts.get(key)
    if n is None:
        if len(_answer_counts) >= _ANSWER_MEMO_SIZE:
            _answer_counts = {}  # replaced, not cleared: another thread may be using it
        n = _answer_counts[key] = tokens.count_text(model, content)
    return n


def _model_of(body: dict[str, Any]) -> str:
    model = body.get("model")
    return model if isinstance(model, str) else ""


# -- chat completions ---------------------------------------------------------------------------

def _schema_of(response_format: Any) -> dict[str, Any] | None:
    if not isinstance(response_format, dict):
        raise RequestError("Invalid type for 'response_format': expected an object.",
                           param="response_format")
    kind = response_format.get("type")
    if kind in (None, "text"):
        return None
    if kind == "json_object":
        return {}
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise RequestError("Missing required parameter: 'response_format.json_schema.name'.",
                               param="response_format.json_schema.name",
                               code="missing_required_parameter")
        schema = spec.get("schema", {})
        if not isinstance(schema, dict):
            raise RequestError("Invalid schema for response_format: expected an object.",
                               param="response_format.json_schema.schema")
        return schema
    raise RequestError(f"Invalid value for 'response_format.type': '{kind}'.",
                       param="response_format.type")


def chat_content(body: dict[str, Any]) -> tuple[str, int]:
    """The assistant's content for a chat request, and its prompt tokens."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("Missing required parameter: 'messages'.", param="messages",
                           code="missing_required_parameter")
    user_parts: list[str] = []
    all_parts: list[str] = []
    for m in messages:
        if not isinstance(m, dict):
            raise RequestError("Invalid type for 'messages': expected objects.", param="messages")
        text = text_of(m.get("content"))
        all_parts.append(text)
        if m.get("role") == "user":
            user_parts.append(text)
    text = "\n".join(user_parts) if user_parts else "\n".join(all_parts)
    schema = _schema_of(body["response_format"]) if "response_format" in body else None
    prompt_tokens = _chat_prompt_tokens(body, messages)
    ctx = TextContext(text)
    if schema is None:
        return (f'{EMULATOR_TAG} deterministic reply, no model was called. '
                f'Input #{digest(text)}: "{trim(ctx.flat, 60)}"'), prompt_tokens
    if not schema:  # json_object
        if "json" not in "\n".join(all_parts).lower():  # as OpenAI refuses it
            raise RequestError("'messages' must contain the word 'json' in some form, to use "
                               "'response_format' of type 'json_object'.", param="messages")
        value: Any = {"emulator": "batchsql", "digest": digest(text),
                      "echo": f"{FIELD_TAG} {trim(ctx.flat, 60)}"}
        return json.dumps(value, ensure_ascii=False), prompt_tokens
    plan = _plan_for(schema)
    if plan is not None:
        return plan.json(ctx), prompt_tokens
    value = SchemaValues(schema, ctx).value(schema, "result", "$")
    return json.dumps(value, ensure_ascii=False), prompt_tokens


# Plans of the schemas met last, newest first, by identity: a batch's lines share one schema
# object when LineParser parses them from a template. Equal is not enough: 1 == 1.0 == True, and
# json.dumps tells them apart. A schema is compiled the second time it is met, so that lines
# parsed one by one (a fresh schema each) do not pay for a plan they use once.
_plans: tuple[tuple[dict[str, Any], Plan | None], ...] = ()
_met_once: tuple[dict[str, Any], ...] = ()


def _plan_for(schema: dict[str, Any]) -> Plan | None:
    global _plans, _met_once
    plans = _plans  # one read: other threads may replace it meanwhile
    for known, plan in plans:
        if known is schema:
            return plan
    met = _met_once
    if any(known is schema for known in met):
        plan = compile_plan(schema)
        _plans = ((schema, plan), *plans[:7])
        return plan
    _met_once = (schema, *met[:7])
    return None


def chat_completion(body: dict[str, Any], *, completion_id: str, created: int
                    ) -> tuple[dict[str, Any], int, int]:
    """A full ``chat.completion`` object plus (prompt_tokens, completion_tokens)."""
    content, prompt_tokens = chat_content(body)
    completion_tokens = _answer_tokens(body, content)
    n = body.get("n", 1)
    n = n if isinstance(n, int) and 1 <= n <= 16 else 1
    choice = {"index": 0, "message": {"role": "assistant", "content": content, "refusal": None,
                                      "annotations": []},
              "logprobs": None, "finish_reason": "stop"}
    choices = [choice] if n == 1 else [{**choice, "index": i} for i in range(n)]
    completion = {
        "id": completion_id, "object": "chat.completion", "created": created,
        "model": body.get("model"), "system_fingerprint": FINGERPRINT,
        "service_tier": "default", "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens * n,
            "total_tokens": prompt_tokens + completion_tokens * n,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0,
                                          "rejected_prediction_tokens": 0},
        },
    }
    return completion, prompt_tokens, completion_tokens * n


# The same object as chat_completion() for the common case (n == 1), formatted directly: a
# batch of a million lines spends most of its time serialising, and this is ~4x faster than
# json.dumps of the nested dict (an f-string: unlike a % template, not parsed per call).
# tests/test_emulator_answers.py checks both stay identical.
def _chat_json(completion_id: str, created: int, model: str, content: str, pt: int,
               ct: int) -> str:
    return (
        f'{{"id": "{completion_id}", "object": "chat.completion", "created": {created:d}, '
        f'"model": {_quote(model)}, "system_fingerprint": "{FINGERPRINT}", '
        '"service_tier": "default", "choices": [{"index": 0, "message": {"role": "assistant", '
        f'"content": {_quote(content)}, "refusal": null, "annotations": []}}, '
        '"logprobs": null, "finish_reason": "stop"}], "usage": '
        f'{{"prompt_tokens": {pt:d}, "completion_tokens": {ct:d}, "total_tokens": {pt + ct:d}, '
        '"prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0}, '
        '"completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, '
        '"accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}}'
    )


_quote = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def chat_completion_json(body: dict[str, Any], *, completion_id: str, created: int,
                         template: Template | None = None,
                         user_tokens: int | None = None) -> tuple[str, int, int]:
    """``chat_completion`` serialised with ``json.dumps`` defaults, plus the token counts.

    ``template``: the LineParser template ``body``'s line was parsed from, if any. What does
    not depend on the strings that differ between its lines is then worked out once.
    ``user_tokens``: ``templated_user_tokens(body, template)`` when the caller counted it.
    """
    shape = _shape_of(template)
    if shape is not None:
        users, plan, frame_tokens = shape
        messages = body["messages"]
        model = body["model"]
        if len(users) == 1:  # the usual case, without the lists
            text = messages[users[0]]["content"]
            if user_tokens is None:
                user_tokens = tokens.count_text(model, text)
        else:
            texts = [messages[i]["content"] for i in users]
            if user_tokens is None:
                user_tokens = sum(tokens.count_text(model, text) for text in texts)
            text = "\n".join(texts)
        pt = frame_tokens + user_tokens
        content = plan.json(TextContext(text))
        ct = _answer_tokens(body, content)
        return _chat_json(completion_id, created, model, content, pt, ct), pt, ct
    model, n = body.get("model"), body.get("n", 1)
    if not isinstance(model, str) or (n != 1 and "n" in body):
        completion, pt, ct = chat_completion(body, completion_id=completion_id, created=created)
        return json.dumps(completion), pt, ct
    content, pt = chat_content(body)
    ct = _answer_tokens(body, content)
    return _chat_json(completion_id, created, model, content, pt, ct), pt, ct


def templated_user_tokens(body: dict[str, Any], template: Template | None) -> int | None:
    """The tokens of the user texts of a chat body parsed from ``template``, which is all that
    ``chat_completion_json`` counts of it; None when it does not take that road.

    Counting many requests' texts in a row, apart from building their answers, keeps the
    tokenizer's tables in the CPU's caches: ~10 us less per line than taking turns.
    """
    shape = _shape_of(template)
    if shape is None:
        return None
    users, messages, model = shape[0], body["messages"], body["model"]
    if len(users) == 1:
        return tokens.count_text(model, messages[users[0]]["content"])
    return sum(tokens.count_text(model, messages[i]["content"]) for i in users)


def _shape_of(template: Template | None) -> tuple[list[int], Plan, int] | None:
    """``_chat_shape`` of the template, worked out once; None without a template."""
    if template is None:
        return None
    memo = template.memo
    if "chat" not in memo:
        memo["chat"] = _chat_shape(template)
    shape: tuple[list[int], Plan, int] | None = memo["chat"]
    return shape


def _chat_shape(template: Template) -> tuple[list[int], Plan, int] | None:
    """(indexes of the user messages, the schema's plan, the frame's tokens) shared by the
    lines of ``template``, or None unless its lines take the common road of ``chat_content``
    (exact token counts, n = 1, a json_schema with a plan, user turns of plain text) and
    differ in the body only in the text of user turns."""
    line = template.obj
    body = line.get("body") if isinstance(line, dict) else None
    if not isinstance(body, dict):
        return None
    model, messages = body.get("model"), body.get("messages")
    if not isinstance(model, str) or not tokens.is_exact(model) or (
            "n" in body and body["n"] != 1):
        return None
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return None
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    if not users or not all(isinstance(messages[i].get("content"), str) for i in users):
        return None
    varying = {("body", "messages", i, "content") for i in users}
    if any(path[:1] == ("body",) and path not in varying for path in template.paths):
        return None
    try:
        schema = _schema_of(body["response_format"]) if "response_format" in body else None
    except RequestError:
        return None
    if not schema:
        return None
    plan = _plan_for(schema) or _plan_for(schema)  # compiled the second time it is met
    if plan is None:
        return None
    # The frame of _exact_chat_tokens, the same for every line of the template.
    frame = {k: body[k] for k in ("model", "response_format", "tools") if k in body}
    frame["messages"] = [{**m, "content": ""} if i in users else m
                         for i, m in enumerate(messages)]
    return users, plan, tokens.count_input_tokens(tokens.CHAT, frame)


# -- embeddings ---------------------------------------------------------------------------------

def embedding_vector(text: str, dimensions: int) -> list[float]:
    """A unit vector seeded by the text: same text, same vector."""
    raw = hashlib.shake_256(text.encode("utf-8", "surrogatepass")).digest(dimensions * 2)
    ints = struct.unpack(f"<{dimensions}h", raw)
    norm = math.sqrt(sum(i * i for i in ints)) or 1.0
    return [round(i / norm, 7) for i in ints]


def embeddings(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A full embeddings ``list`` response plus its prompt tokens."""
    inputs = _embedding_inputs(body)
    model = str(body.get("model") or "")
    dims = body.get("dimensions") or (3072 if "3-large" in model else 1536)
    if not isinstance(dims, int) or not 1 <= dims <= 8192:
        raise RequestError("Invalid value for 'dimensions'.", param="dimensions")
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for i, (text, _) in enumerate(inputs):
        vec = embedding_vector(text, dims)
        emb: Any = (base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode("ascii")
                    if as_base64 else vec)
        data.append({"object": "embedding", "index": i, "embedding": emb})
    tokens = sum(n for _, n in inputs)
    return ({"object": "list", "data": data, "model": model,
             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}, tokens)


def _embedding_inputs(body: dict[str, Any]) -> list[tuple[str, int]]:
    """(text to embed, its tokens) per input of an embeddings request."""
    inputs = body.get("input")
    if inputs is None:
        raise RequestError("Missing required parameter: 'input'.", param="input",
                           code="missing_required_parameter")
    if isinstance(inputs, str) or (isinstance(inputs, list) and inputs
                                   and all(isinstance(i, int) for i in inputs)):
        inputs = [inputs]  # one string, or one list of token ids
    if not isinstance(inputs, list) or not inputs:
        raise RequestError("Invalid value for 'input': expected a string or a list.",
                           param="input")
    out = []
    for item in inputs:
        if isinstance(item, list):  # token ids
            out.append((" ".join(str(t) for t in item), len(item)))
        elif isinstance(item, str):
            out.append((item, _text_tokens(body, item)))
        else:
            raise RequestError("Invalid value for 'input'.", param="input")
    return out
