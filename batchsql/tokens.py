"""Input token counts of requests, as the provider will bill them.

Pure: used by the planner (cost before spending), the budget, the enqueued-token quota and the
emulator's ``usage`` figures.
"""

from __future__ import annotations

from typing import Any

from batchsql import plan


def count_input_tokens(url: str, body: dict[str, Any]) -> int:
    """Input tokens of one request body sent to ``url``."""
    return plan.estimate_input_tokens(plan.canonical_json(body))


def count_text(model: str, text: str) -> int:
    """Tokens of a piece of text (an answer, say) for a model."""
    return plan.estimate_input_tokens(text)


def is_exact(model: str) -> bool:
    """Whether counts for this model come from its real tokenizer (else an estimate)."""
    return False
