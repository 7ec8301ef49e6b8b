"""A batch's life as a pure function of the emulator clock, and the Batch JSON it shows.

Timeline for ``P = processing_seconds`` and ``F = finalizing_seconds`` (captured at create) from
``t0 = created``::

    validating [t0, t0+0.1P)  in_progress [.., t0+0.8P)  finalizing [.., t0+P+F)  completed then

A batch that fails validation is ``failed`` at t0+0.1P; an expiring one stays ``in_progress``
(stalled at ``expire_after_lines``) and is ``expired`` at t0+P; a cancelled one is
``cancelling`` for 0.1P after the cancel, then ``cancelled``. Lines are answered evenly through
the in_progress phase, which is what ``request_counts.completed`` shows meanwhile.
"""

from __future__ import annotations

import math
from typing import Any

VALIDATING, IN_PROGRESS, FINALIZING = "validating", "in_progress", "finalizing"
COMPLETED, FAILED, EXPIRED = "completed", "failed", "expired"
CANCELLING, CANCELLED = "cancelling", "cancelled"
TERMINAL = (COMPLETED, FAILED, EXPIRED, CANCELLED)
DAY = 24 * 3600


def _ts(t: float | None) -> int | None:
    return None if t is None else int(t)


# -- timeline -----------------------------------------------------------------------------------

class Timeline:
    """The moments of one batch's life, from its creation time and captured faults."""

    def __init__(self, rec: dict[str, Any]) -> None:
        p = float(rec["faults"].get("processing_seconds", 0.0))
        t0 = float(rec["created"])
        self.p = p
        self.created = t0
        self.validated = t0 + 0.1 * p
        self.finalizing = t0 + 0.8 * p
        self.done = t0 + p  # all lines answered; an expiring batch expires here
        self.completed = self.done + float(rec["faults"].get("finalizing_seconds", 0.0))
        self.cancel_at: float | None = rec.get("cancel_at")
        self.cancelled = None if self.cancel_at is None else self.cancel_at + 0.1 * p
        v = rec.get("validation")
        self.valid = v is not None and not v["errors"]
        self.total = v["total"] if v else 0
        n = rec["faults"].get("expire_after_lines")
        self.expire_at_line = n if (n is not None and self.valid and n < self.total) else None

    def base_status(self, now: float, validation_failed: bool) -> str:
        """Status ignoring any cancel."""
        if now < self.validated:
            return VALIDATING
        if validation_failed:
            return FAILED
        if self.expire_at_line is not None:
            return IN_PROGRESS if now < self.done else EXPIRED
        if now < self.finalizing:
            return IN_PROGRESS
        return FINALIZING if now < self.completed else COMPLETED

    def processed(self, now: float) -> int:
        """Lines answered by ``now`` (processing runs evenly through the in_progress phase)."""
        if now < self.validated or not self.valid:
            return 0
        span = self.finalizing - self.validated
        frac = 1.0 if span <= 0 else min(1.0, (now - self.validated) / span)
        k = math.floor(self.total * frac)
        return k if self.expire_at_line is None else min(k, self.expire_at_line)


def status_of(rec: dict[str, Any], now: float) -> str:
    tl = Timeline(rec)
    failed = rec.get("validation") is not None and bool(rec["validation"]["errors"])
    if tl.cancel_at is not None:
        return CANCELLED if now >= tl.cancelled else CANCELLING
    return tl.base_status(now, failed)


def needs_work(rec: dict[str, Any], now: float) -> bool:
    """True when reading the batch at ``now`` requires validating or answering it first."""
    tl = Timeline(rec)
    if rec.get("validation") is None and not cancelled_while_validating(tl) and (
            now >= tl.validated):
        return True
    return rec.get("result") is None and status_of(rec, now) in (COMPLETED, EXPIRED, CANCELLED)


def cancelled_while_validating(tl: Timeline) -> bool:
    return tl.cancel_at is not None and tl.cancel_at < tl.validated


# -- the public Batch object ----------------------------------------------------------------------

def batch_view(rec: dict[str, Any], now: float, *, cancelling: bool = False) -> dict[str, Any]:
    """The Batch JSON as the API returns it at ``now`` (every field of openai.types.Batch)."""
    tl = Timeline(rec)
    v = rec.get("validation")
    result = rec.get("result")
    status = CANCELLING if cancelling else status_of(rec, now)
    # Past-phase timestamps: a phase shows once it was reached before any cancel.
    reached = now if tl.cancel_at is None else min(now, tl.cancel_at)
    in_progress_at = tl.validated if (tl.valid and reached >= tl.validated) else None
    finalizing_at = (tl.finalizing if (tl.valid and tl.expire_at_line is None
                                       and reached >= tl.finalizing) else None)
    counts = {"total": 0, "completed": 0, "failed": 0}
    usage = usage_dict(0, 0)
    if result is not None and status in TERMINAL:
        counts = {"total": tl.total, "completed": result["completed"],
                  "failed": result["failed"]}
        usage = result["usage"]
    elif status in (IN_PROGRESS, FINALIZING):
        counts = {"total": tl.total, "completed": tl.processed(now), "failed": 0}
    elif status == CANCELLING:
        counts = {"total": tl.total, "completed": rec.get("cancel_processed") or 0, "failed": 0}
    errors = None
    if status == FAILED and v is not None:
        errors = {"object": "list", "data": v["errors"]}
    done = result is not None and status in TERMINAL
    return {
        "id": rec["id"], "object": "batch", "endpoint": rec["endpoint"],
        "model": (v or {}).get("model") or rec.get("model"),
        "errors": errors, "input_file_id": rec["input_file_id"],
        "completion_window": rec["completion_window"], "status": status,
        "output_file_id": result["output_file_id"] if done else None,
        "error_file_id": result["error_file_id"] if done else None,
        "created_at": _ts(tl.created), "in_progress_at": _ts(in_progress_at),
        "expires_at": _ts(tl.created) + DAY,
        "finalizing_at": _ts(finalizing_at),
        "completed_at": _ts(tl.completed) if status == COMPLETED else None,
        "failed_at": _ts(tl.validated) if status == FAILED else None,
        "expired_at": _ts(tl.done) if status == EXPIRED else None,
        "cancelling_at": _ts(tl.cancel_at),
        "cancelled_at": _ts(tl.cancelled) if status == CANCELLED else None,
        "request_counts": counts, "metadata": rec.get("metadata"), "usage": usage,
    }


def usage_dict(in_tokens: int, out_tokens: int) -> dict[str, Any]:
    return {"input_tokens": in_tokens, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": out_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": in_tokens + out_tokens}
