"""List prices of OpenAI models, in USD per million tokens, for the cost figures batchsql shows.

Realtime (standard tier) prices, checked on 2026-11-26 against OpenAI's model pages
(developers.openai.com/api/docs/models) and pricing page; the Batch API charges half of them.
A model missing here has an unknown price, which batchsql shows as unknown, never as zero.
A target's ``batchsql: {prices: ...}`` mapping adds or overrides prices (Azure, other
OpenAI-compatible providers, negotiated rates): see ``prices_from_settings``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from batchsql.errors import ProfileError

BATCH_DISCOUNT = 0.5


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens at the realtime (standard) tier.

    ``batch_input`` / ``batch_output`` are the batch prices where they are not
    ``BATCH_DISCOUNT`` of the realtime ones (None: the usual discount).
    """

    input: float
    output: float
    batch_input: float | None = None
    batch_output: float | None = None

    def cost(self, input_tokens: int, output_tokens: int, *, batch: bool = True) -> float:
        if batch:
            per_input = self.input * BATCH_DISCOUNT if self.batch_input is None else (
                self.batch_input)
            per_output = self.output * BATCH_DISCOUNT if self.batch_output is None else (
                self.batch_output)
        else:
            per_input, per_output = self.input, self.output
        return (input_tokens * per_input + output_tokens * per_output) / 1_000_000


# Published standard-tier prices (USD / 1M tokens). A dated snapshot with a price of its own
# (gpt-4o-2024-05-13) is listed; other snapshots take their family's (see price_of).
PRICES: dict[str, Price] = {
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-2024-05-13": Price(5.00, 15.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "o1": Price(15.00, 60.00),
    "o3": Price(2.00, 8.00),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
    "gpt-4-turbo": Price(10.00, 30.00),
    "gpt-4": Price(30.00, 60.00),
    "gpt-3.5-turbo": Price(0.50, 1.50),
    "text-embedding-3-small": Price(0.02, 0.0),
    "text-embedding-3-large": Price(0.13, 0.0),
    "text-embedding-ada-002": Price(0.10, 0.0),
}

# A dated snapshot: gpt-4o-mini-2024-07-18, gpt-4-0613. Only dates, not any suffix: o1-mini,
# o3-pro or gpt-5-pro are other models at other prices, not variants of o1, o3 or gpt-5.
_SNAPSHOT = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{4})$")


def price_of(model: str, overrides: Mapping[str, Price] | None = None) -> Price | None:
    """The price of a model: ``overrides`` first, then the table; each by exact name, then a
    dated snapshot (gpt-4o-mini-2024-07-18) by its family (gpt-4o-mini). None when unknown."""
    snapshot = _SNAPSHOT.search(model)
    family = model[:snapshot.start()] if snapshot else None
    for table in (overrides or {}, PRICES):
        if model in table:
            return table[model]
        if family is not None and family in table:
            return table[family]
    return None


_KEYS = ("input", "output", "batch_input", "batch_output")
_EXAMPLE = "prices: {gpt-4o-mini: {input: 0.15, output: 0.6}}"


def prices_from_settings(raw: Any, source: str) -> dict[str, Price]:
    """Prices from a target's ``batchsql: {prices: ...}`` mapping, validated.

    ``{<model>: {input: 0.15, output: 0.6}}`` in USD per 1M tokens at the realtime tier, with
    optional ``batch_input`` / ``batch_output`` where a provider's batch discount is not 50%.
    ``source`` names the profile and target in errors (ProfileError).
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{source}: batchsql.prices must be a mapping of model names to "
                           f"prices, e.g. {_EXAMPLE}")
    prices: dict[str, Price] = {}
    for model, entry in raw.items():
        if not isinstance(model, str) or not model:
            raise ProfileError(f"{source}: batchsql.prices: model name {model!r} must be a "
                               "non-empty string (quote it in YAML)")
        where = f"{source}: batchsql.prices.{model}"
        if not isinstance(entry, Mapping):
            raise ProfileError(f"{where} must be a mapping with input and output "
                               f"(USD per 1M tokens), e.g. {_EXAMPLE}")
        for key in entry:
            if key not in _KEYS:
                close = difflib.get_close_matches(str(key), _KEYS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ProfileError(f"{where}: unknown key '{key}'{hint}; keys are "
                                   f"{', '.join(_KEYS)}")
        missing = [key for key in ("input", "output") if key not in entry]
        if missing:
            raise ProfileError(f"{where}: missing '{missing[0]}' (USD per 1M tokens; 0 for a "
                               "model that does not bill it)")
        usd = {key: _usd(entry[key], f"{where}.{key}") for key in _KEYS if key in entry}
        prices[model] = Price(**usd)
    return prices


def _usd(value: Any, where: str) -> float:
    # Values rendered from Jinja (env_var) arrive as strings: "0.15" is a number too.
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise ProfileError(f"{where} must be a number (USD per 1M tokens), got {value!r}"
                           ) from None
    if not math.isfinite(number) or number < 0:
        raise ProfileError(f"{where} must be zero or more (USD per 1M tokens), got {value!r}")
    return number
