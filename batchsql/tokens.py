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
