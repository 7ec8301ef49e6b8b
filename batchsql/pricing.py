"""List prices of OpenAI models, in USD per million tokens, for the cost figures batchsql shows.

Realtime (standard) prices; the Batch API charges half of them. A model missing here has an
unknown price, which batchsql shows as unknown, never as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from batchsql.errors import ProfileError

BATCH_DISCOUNT = 0.5


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens at the realtime (standard) tier."""

    input: float
    output: float

    def cost(self, input_tokens: int, output_tokens: int, *, batch: bool = True) -> float:
        factor = BATCH_DISCOUNT if batch else 1.0
        return factor * (input_tokens * self.input + output_tokens * self.output) / 1_000_000


# Published standard-tier prices (USD / 1M tokens).
PRICES: dict[str, Price] = {
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "o3": Price(2.00, 8.00),
    "o4-mini": Price(1.10, 4.40),
    "gpt-3.5-turbo": Price(0.50, 1.50),
    "text-embedding-3-small": Price(0.02, 0.0),
    "text-embedding-3-large": Price(0.13, 0.0),
}


def price_of(model: str, overrides: dict[str, Price] | None = None) -> Price | None:
    """The price of a model, matching dated snapshots (gpt-4o-mini-2024-07-18) to their family."""
    table = {**PRICES, **(overrides or {})}
    if model in table:
        return table[model]
    # Longest family name that prefixes the snapshot name wins (gpt-4o-mini before gpt-4o).
    families = sorted((name for name in table if model.startswith(name + "-")), key=len)
    return table[families[-1]] if families else None


def prices_from_settings(raw: Any, source: str) -> dict[str, Price]:
    """Price overrides from a profile's ``prices:`` mapping (USD per 1M tokens)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ProfileError(f"prices in {source} must map model names to {{input, output}}")
    out = {}
    for model, entry in raw.items():
        if not isinstance(entry, dict):
            raise ProfileError(f"price of {model!r} in {source} must be {{input, output}}")
        try:
            out[str(model)] = Price(float(entry["input"]), float(entry.get("output", 0)))
        except (KeyError, TypeError, ValueError) as e:
            raise ProfileError(f"price of {model!r} in {source} is not valid: {e}") from None
    return out
