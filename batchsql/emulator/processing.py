"""Doing a batch's work when it falls due: validating it, answering its lines, writing files.

Nothing runs in the background: the status is computed from the clock (``timeline.py``), and the
work behind it is done, once and under a per-batch lock (threads and processes), the first time
someone reads the batch past the moment that work would have finished.

Input is read a chunk of lines at a time (``_CHUNK``: parsed, then their user texts' tokens
counted in a row, then answered in order); output lines are spooled to disk with their offsets
and then copied into the final file in a deterministic shuffled order, so memory stays bounded
by the number of lines (an offset each) and one chunk, not the size of the file. The
output-file faults (malformed, duplicate and extra lines) are applied while spooling and never
change ``request_counts``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from . import answers, quota
from .faults import Faults
from .lines import LineParser, Template
from .store import Store
from .textmatch import estimate_tokens
from .timeline import (
    CANCELLED,
    COMPLETED,
    DAY,
    EXPIRED,
    TERMINAL,
    Timeline,
    cancelled_while_validating,
    needs_work,
    status_of,
    usage_dict,
)
from .validation import Validator, validate_input

CHAT = "/v1/chat/completions"
SUPPORTED_ENDPOINTS = (CHAT, "/v1/embeddings")

_OK_LINE = ('{"id": "%s", "custom_id": %s, "response": {"status_code": 200, "request_id": "%s", '
            '"body": %s}, "error": null}')
_quote = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]
_EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."
_CANCELLED_MESSAGE = "This request could not be executed because the batch was cancelled."


def refresh(store: Store, rec: dict[str, Any], now: float) -> dict[str, Any]:
    """Bring the record up to ``now``: validate and/or answer it if that is due. Idempotent."""
    if not needs_work(rec, now):
        return rec
    with store.locked(f"batch-{rec['id']}"):
        # Another thread or process may have done it while we waited for the lock.
        rec = store.load_batch(rec["id"]) or rec
        if not needs_work(rec, now):
            return rec
        tl = Timeline(rec)
        if rec.get("validation") is None and not cancelled_while_validating(tl):
            if _can_validate_while_answering(rec, tl, now):
                return _validate_and_execute(store, rec, tl)
            rec = _settle(store, rec)
            tl = Timeline(rec)
        status = status_of(rec, now)
        if rec.get("result") is None and rec.get("validation") is None and status == CANCELLED:
            # Cancelled before validation ended: nothing ran, there are no files.
            rec["result"] = {"output_file_id": None, "error_file_id": None, "completed": 0,
                             "failed": 0, "usage": usage_dict(0, 0)}
            store.save_batch(rec)
        elif rec.get("result") is None and status in (COMPLETED, EXPIRED, CANCELLED):
            if status == COMPLETED:
                k, finished, reason = tl.total, tl.completed, None
            elif status == EXPIRED:
                k, finished, reason = tl.expire_at_line or 0, tl.done, "expired"
            else:
                k, finished = rec.get("cancel_processed") or 0, tl.cancelled or now
                reason = "cancelled"
            rec["result"] = execute(store, rec, k, reason, finished)
            store.save_batch(rec)
        return rec


def _settle(store: Store, rec: dict[str, Any]) -> dict[str, Any]:
    """``rec`` with its validation (and token quota check) done, unless a cancel prevented it."""
    with store.locked(f"batch-{rec['id']}"):
        rec = store.load_batch(rec["id"]) or rec
        if rec.get("validation") is None and not cancelled_while_validating(Timeline(rec)):
            faults = Faults(**rec["faults"])
            v = validate_input(store.batch_input_path(rec["id"]), rec["endpoint"], faults,
                               count_tokens=faults.token_limit is not None)
            error = quota.check(store, rec, v, lambda other: _settle(store, other))
            if error is not None:
                v["errors"].append(error)
            rec["validation"] = v
            store.save_batch(rec)
        return rec


def _can_validate_while_answering(rec: dict[str, Any], tl: Timeline, now: float) -> bool:
    """Whether one pass may validate the input and answer it (half the parsing of two).

    Only once the batch is past its end with no cancel: then validation decides alone between
    failed and completed. Not with a token quota (checked between the two) nor an expiry (its
    cut depends on the count of lines).
    """
    faults = rec["faults"]
    return (now >= tl.completed and rec.get("cancel_at") is None
            and faults.get("token_limit") is None and faults.get("expire_after_lines") is None)


def _validate_and_execute(store: Store, rec: dict[str, Any], tl: Timeline) -> dict[str, Any]:
    """``refresh`` of a batch that ``_can_validate_while_answering``: the same record."""
    validator = Validator(rec["endpoint"], Faults(**rec["faults"]),
                          store.batch_input_path(rec["id"]).stat().st_size, count_tokens=False)
    result = execute(store, rec, None, None, tl.completed, validator)
    rec["validation"] = validator.result()
    if result is not None:
        rec["result"] = result
    store.save_batch(rec)
    return rec


def cancel(store: Store, rec: dict[str, Any], now: float) -> dict[str, Any] | str:
    """Ask for a cancel at ``now``. Returns the updated record, or the status that forbids it."""
    rec = refresh(store, rec, now)
    with store.locked(f"batch-{rec['id']}"):
        rec = store.load_batch(rec["id"]) or rec
        if rec.get("cancel_at") is not None:
            return rec  # cancelling twice is harmless, like the real API
        status = status_of(rec, now)
        if status in TERMINAL:
            return status
        rec["cancel_at"] = now
        # Lines already answered stay answered; the rest will never run.
        rec["cancel_processed"] = Timeline(rec).processed(now)
        store.save_batch(rec)
        return rec


# -- answering the lines --------------------------------------------------------------------------

class _Spool:
    """Output lines in processing order, on disk, with their offsets for the shuffle."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.f = open(path, "wb", buffering=1024 * 1024)  # noqa: SIM115 - closed in finish()
        self.offsets = array("q", [0])

    def write(self, line: str) -> None:
        data = line.encode("utf-8") + b"\n"
        self.f.write(data)
        self.offsets.append(self.offsets[-1] + len(data))

    @property
    def count(self) -> int:
        return len(self.offsets) - 1

    def discard(self) -> None:
        self.f.close()
        self.path.unlink()

    def finish(self, seed: str, shuffle: bool) -> Path | None:
        """Close; rewrite in a deterministic shuffled order. None when no line was written."""
        self.f.close()
        n = self.count
        if n == 0:
            self.path.unlink()
            return None
        if not shuffle or n < 2:
            return self.path
        order = list(range(n))
        random.Random(seed).shuffle(order)
        if order == sorted(order):
            order = order[1:] + order[:1]  # never hand back input order
        offs = self.offsets
        dest = self.path.with_suffix(".shuffled")
        # Line by line from the page cache: the file (a 200 MB input makes a larger output)
        # is never in this process's memory.
        with open(self.path, "rb") as src, open(dest, "wb", buffering=1024 * 1024) as out:
            fd = src.fileno()
            for i in order:
                out.write(os.pread(fd, offs[i + 1] - offs[i], offs[i]))
        self.path.unlink()
        return dest


# Lines parsed ahead of answering them, so that their token counts are done in a row.
_CHUNK = 1024


def _requests(f: BinaryIO, validator: Validator | None
              ) -> Iterator[list[tuple[dict[str, Any], Template | None]]]:
    """The requests of an input file in chunks of ``_CHUNK``, each with the LineParser
    template it matched; blank lines left out.

    With ``validator``, it validates every line and leaves out the wrong ones; from the first
    error on, the batch fails and nothing more is answered: it only goes on validating.
    """
    parser = LineParser() if validator is None else validator.parser
    chunk: list[tuple[dict[str, Any], Template | None]] = []
    for lineno, raw in enumerate(f, 1):
        if validator is not None:
            req = validator.check(lineno, raw)
            if validator.errors:
                if validator.stopped:
                    return
                chunk = []
                continue
            if req is None:
                continue  # blank
        elif not raw or raw.isspace():
            continue
        else:
            req = parser.loads(raw)
        chunk.append((req, parser.template))
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _failure_body(status: int) -> dict[str, Any]:
    if status == 429:
        err = {"message": "[batchsql emulator] Rate limit reached (injected fault).",
               "type": "requests", "param": None, "code": "rate_limit_exceeded"}
    elif status >= 500:
        err = {"message": "The server had an error while processing your request. Sorry about "
               "that! [batchsql emulator: injected fault]", "type": "server_error",
               "param": None, "code": "server_error"}
    else:
        err = {"message": "[batchsql emulator] This request was rejected (injected fault).",
               "type": "invalid_request_error", "param": None, "code": "invalid_request"}
    return {"error": err}


def execute(store: Store, rec: dict[str, Any], k: int | None, reason: str | None,
            finished: float, validator: Validator | None = None) -> dict[str, Any] | None:
    """Answer the first ``k`` lines (all for None; faults applied); the rest never run. Writes
    both files.

    With ``validator`` the same pass validates the input: the lines are answered only while it
    finds nothing wrong, and when it does, no file is written, nothing is kept (the per-request
    failure counts included) and the answer is None.
    """
    faults = Faults(**rec["faults"])
    batch_id, endpoint = rec["id"], rec["endpoint"]
    created = int(finished)
    out = _Spool(store.tmp_path(".out"))
    err = _Spool(store.tmp_path(".err"))
    not_run = {"code": "batch_expired" if reason == "expired" else "batch_cancelled",
               "message": _EXPIRED_MESSAGE if reason == "expired" else _CANCELLED_MESSAGE}
    check_fail = faults.fail_match is not None or faults.fail_rate > 0
    # The body's JSON text is what the *_match knobs look in; skip building it when unused.
    need_text = check_fail or faults.malformed_match is not None or (
        faults.duplicate_match is not None) or faults.wrong_answer_match is not None
    rate_cut = int(faults.fail_rate * 2**64)
    # Read once, not per line: the knobs every line looks at, and what it calls.
    extra_lines, wrong_match = faults.extra_lines, faults.wrong_answer_match
    malformed_match, duplicate_match = faults.malformed_match, faults.duplicate_match
    blake2b, chat_json = hashlib.blake2b, answers.chat_completion_json
    counts_path = store.fail_counts_path()
    in_tokens = out_tokens = 0
    bogus = 0  # output lines that are not one answer per request (duplicates, extras)
    input_ids: set[str] = set()
    hold = store.locked("fail_counts") if faults.fail_times is not None else (
        contextlib.nullcontext())
    with hold:
        counts: dict[str, int] = (store.read_json(counts_path, {})
                                  if faults.fail_times is not None else {})
        counts_changed = False
        index = 0
        with open(store.batch_input_path(batch_id), "rb") as f:
            for chunk in _requests(f, validator):
                # The tokens of the user texts of the chunk's lines that will be answered,
                # counted in a row (templated_user_tokens says why).
                run = len(chunk) if k is None else max(0, min(len(chunk), k - index))
                counted = [answers.templated_user_tokens(req["body"], template)
                           for req, template in chunk[:run]] if endpoint == CHAT else []
                for j, (req, template) in enumerate(chunk):
                    i, index = index, index + 1
                    cid, body = req["custom_id"], req["body"]
                    if extra_lines:
                        input_ids.add(cid)
                    h = blake2b(f"{batch_id}:{i}".encode(), digest_size=32).hexdigest()
                    line_id, request_id = f"batch_req_{h[:32]}", f"req_{h[32:]}"
                    if k is not None and i >= k:
                        err.write(json.dumps({"id": line_id, "custom_id": cid,
                                              "response": None, "error": not_run}))
                        continue
                    text = json.dumps(body, ensure_ascii=False) if need_text else ""
                    if check_fail:
                        fail = (faults.fail_match is not None
                                and faults.fail_match in text) or (
                            rate_cut > 0 and int.from_bytes(hashlib.sha256(
                                f"{cid}\n{text}".encode("utf-8", "surrogatepass")).digest()[:8],
                                "big") < rate_cut)
                        if fail and faults.fail_times is not None:
                            key = hashlib.sha256(
                                text.encode("utf-8", "surrogatepass")).hexdigest()
                            seen = counts.get(key[:32], 0)
                            if seen < faults.fail_times:
                                counts[key[:32]] = seen + 1
                                counts_changed = True
                            else:
                                fail = False
                        if fail:
                            err.write(json.dumps({"id": line_id, "custom_id": cid, "response": {
                                "status_code": faults.fail_status, "request_id": request_id,
                                "body": _failure_body(faults.fail_status)}, "error": None}))
                            continue
                    wrong = (faults.wrong_answer
                             if wrong_match is not None and wrong_match in text else None)
                    try:
                        if wrong is None and endpoint == CHAT:  # _answer's common case, inline
                            answer_json, pt, ct = chat_json(
                                body, completion_id=f"chatcmpl-emu{h[:24]}", created=created,
                                template=template, user_tokens=counted[j] if j < run else None)
                        else:
                            answer_json, pt, ct = _answer(endpoint, body, h, created, wrong,
                                                          template, counted[j]
                                                          if j < len(counted) else None)
                    except answers.RequestError as e:
                        err.write(json.dumps({"id": line_id, "custom_id": cid, "response": {
                            "status_code": 400, "request_id": request_id, "body": {"error": {
                                "message": e.message, "type": "invalid_request_error",
                                "param": e.param, "code": e.code}}}, "error": None}))
                        continue
                    in_tokens += pt
                    out_tokens += ct
                    # The text of json.dumps of the line object, without re-encoding the answer.
                    line = _OK_LINE % (line_id, _quote(cid), request_id, answer_json)
                    if malformed_match is not None and malformed_match in text:
                        line = line[:len(line) // 2].rstrip("}")  # cut: no longer JSON
                    out.write(line)
                    if duplicate_match is not None and duplicate_match in text:
                        out.write(line)
                        bogus += 1
        if validator is not None and validator.result()["errors"]:
            out.discard()
            err.discard()
            return None
        if counts_changed:
            store.write_json(counts_path, counts)
    for n in range(faults.extra_lines):
        out.write(_extra_line(rec, n, input_ids, created))
        bogus += 1
    files = {}
    for kind, spool in (("output", out), ("error", err)):
        path = spool.finish(f"{batch_id}:{kind}", faults.shuffle)
        files[kind] = None if path is None else store.add_file(
            path, filename=f"{batch_id}_{kind}.jsonl", purpose="batch_output",
            created_at=created, expires_at=created + 30 * DAY)["id"]
    return {
        "output_file_id": files["output"], "error_file_id": files["error"],
        "completed": out.count - bogus, "failed": err.count,
        "usage": usage_dict(in_tokens, out_tokens),
    }


def _answer(endpoint: str, body: dict[str, Any], h: str, created: int,
            wrong: str | None = None, template: Template | None = None,
            user_tokens: int | None = None) -> tuple[str, int, int]:
    """(response body JSON, prompt tokens, completion tokens); RequestError for a bad body.

    ``wrong`` replaces the answer (the wrong_answer fault), keeping the rest of the response.
    ``template``: the LineParser template of the line, and ``user_tokens`` what
    ``answers.templated_user_tokens`` counted of it, for ``chat_completion_json``.
    """
    if endpoint == "/v1/embeddings":
        answer, pt = answers.embeddings(body)
        if wrong is not None:
            try:
                answer["data"][0]["embedding"] = json.loads(wrong)
            except ValueError:  # not JSON: the text itself, like a broken base64 vector
                answer["data"][0]["embedding"] = wrong
        return json.dumps(answer), pt, 0
    if wrong is None:
        return answers.chat_completion_json(body, completion_id=f"chatcmpl-emu{h[:24]}",
                                            created=created, template=template,
                                            user_tokens=user_tokens)
    completion, pt, _ = answers.chat_completion(body, completion_id=f"chatcmpl-emu{h[:24]}",
                                                created=created)
    for choice in completion["choices"]:
        choice["message"]["content"] = wrong
    ct = estimate_tokens(wrong) * len(completion["choices"])
    completion["usage"].update(completion_tokens=ct, total_tokens=pt + ct)
    return json.dumps(completion), pt, ct


def _extra_line(rec: dict[str, Any], n: int, input_ids: set[str], created: int) -> str:
    """A well-formed success line for a request that was never in the input (extra_lines)."""
    cid = f"emulator-unknown-{n}"
    while cid in input_ids:  # it must not name a real request
        cid += "-x"
    model = (rec.get("validation") or {}).get("model") or rec.get("model") or "unknown"
    text = f"[batchsql emulator] extra output line {n}: no such request was sent."
    body = ({"model": model, "input": text} if rec["endpoint"] == "/v1/embeddings" else
            {"model": model, "messages": [{"role": "user", "content": text}]})
    h = hashlib.blake2b(f"{rec['id']}:extra:{n}".encode(), digest_size=32).hexdigest()
    answer_json, _, _ = _answer(rec["endpoint"], body, h, created)
    return _OK_LINE % (f"batch_req_{h[:32]}", _quote(cid), f"req_{h[32:]}", answer_json)
