"""The per-model enqueued-token quota (``Faults.token_limit``), applied the way OpenAI does.

A batch is checked once, when it finishes validating (``Timeline.validated``): its input tokens
plus those of the batches of the same model that were created before it and are still in flight
at that moment must fit the limit. Later batches queue behind it, so a batch's fate never
depends on batches created after it; and telling whether an earlier batch is still in flight
needs only batches earlier still, so the per-batch locks are always taken newest first (no
deadlock) and earlier batches are settled oldest first (no deep recursion).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .faults import Faults
from .store import Store
from .timeline import FINALIZING, IN_PROGRESS, Timeline
from .validation import validate_input

Record = dict[str, Any]


def check(store: Store, rec: Record, validation: Record,
          settle: Callable[[Record], Record]) -> Record | None:
    """The ``token_limit_exceeded`` error for ``rec`` (whose own validation found no errors),
    or None. ``settle`` validates an earlier batch whose validation is due but not yet done."""
    limit = rec["faults"].get("token_limit")
    if limit is None or validation["errors"]:
        return None
    model, at = validation["model"], Timeline(rec).validated
    total = validation["tokens"]
    earlier = sorted((r for r in store.list_batches() if r["seq"] < rec["seq"]),
                     key=lambda r: r["seq"])
    for other in earlier:
        if total > limit:
            break
        if ((other.get("validation") or {}).get("model") or other.get("model")) == model:
            total += _enqueued(store, other, at, settle)
    if total <= limit:
        return None
    return {"code": "token_limit_exceeded", "message": f"Enqueued token limit reached for "
            f"{model} in organization org-emulator. Limit: {limit:,} enqueued tokens. Please "
            "try again once some in_progress batches have been completed.",
            "param": None, "line": None}


def _enqueued(store: Store, rec: Record, at: float, settle: Callable[[Record], Record]) -> int:
    """The input tokens ``rec`` holds in the quota at ``at``: all of them while in flight."""
    tl = Timeline(rec)
    if rec["created"] > at or (tl.cancel_at is not None and tl.cancel_at <= at):
        return 0  # not there yet, or cancelling/cancelled by then
    if at < tl.validated:
        return input_tokens(store, rec)  # still validating: counted, whatever its fate
    if rec.get("validation") is None:
        rec = settle(rec)
    v = rec.get("validation")
    if v is None or v["errors"]:
        return 0  # failed (validation, or its own quota check) at its validation moment
    if Timeline(rec).base_status(at, False) not in (IN_PROGRESS, FINALIZING):
        return 0  # ended by then
    tokens = v.get("tokens")
    return input_tokens(store, rec) if tokens is None else int(tokens)


def input_tokens(store: Store, rec: Record) -> int:
    """A batch's input tokens, counted as its validation counts them (see Faults.token_limit)."""
    v = validate_input(store.batch_input_path(rec["id"]), rec["endpoint"],
                       Faults(**rec["faults"]))
    return int(v["tokens"])
