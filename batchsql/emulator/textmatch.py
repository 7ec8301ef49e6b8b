"""Text helpers, and choosing an enum option from the words of a text.

Options are scored by how often their own words (split on ``_``, ``-`` and spaces) occur in the
text, matched by crude stem or shared prefix and case-insensitively, plus a small list of cue
words for common label sets ("charged" suggests ``billing``). The best score wins; with no match,
an ``other``-like option, else one chosen by hash. Never random.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import Any

# -- text helpers ------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return "\n".join(p.get("text", "") for p in content
                         if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def digest(text: str, n: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:n]


def seed_of(*parts: str) -> int:
    h = hashlib.blake2b("\x00".join(parts).encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(h.digest(), "big")


def one_line(text: str) -> str:
    return " ".join(text.split())


def trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@lru_cache(maxsize=65536)  # vocabularies are small; this is the hot loop of enum choice
def _stem(word: str) -> str:
    # Crude suffix stripping; prefix matching in _Matcher covers what this misses.
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


# Keeps a-z and 0-9, makes every other byte a space.
_SEPARATORS = bytes(c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789" else 32
                    for c in range(256))


# The same, and A-Z made a-z: what lower() does to an ASCII text.
_LOWER_SEPARATORS = bytes(c + 32 if 65 <= c <= 90 else _SEPARATORS[c] for c in range(256))


def words_of(text: str) -> list[str]:
    """Lower-case words (letters and digits) of a text, in order.

    The runs of ``[a-z0-9]`` in ``text.lower()``, as ``_WORD.findall`` finds them, but with
    byte operations that run in C (non-ASCII characters become "?", a separator): twice as
    fast on the text of every request. An ASCII text (most) is lowered by the table, without
    a lowered copy: only non-ASCII characters can lower to other characters than A-Z do.
    """
    if text.isascii():
        return text.encode("ascii").translate(_LOWER_SEPARATORS).decode("ascii").split()
    return (text.lower().encode("ascii", "replace").translate(_SEPARATORS)
            .decode("ascii").split())


def estimate_tokens(text: str) -> int:
    """~4 characters per token, at least 1 for non-empty text."""
    return (len(text) + 3) // 4


# -- choosing an enum value from the text ------------------------------------------------------

# Words that suggest a label without containing it ("charged" -> billing). Small and generic on
# purpose: it makes common label sets behave sensibly in demos; the label's own words count more.
_CUES: dict[str, tuple[str, ...]] = {
    "billing": ("invoice", "charge", "payment", "refund", "bill", "price", "subscription",
                "card", "paid", "pay", "receipt", "cost", "fee"),
    "payment": ("invoice", "charge", "card", "paid", "pay", "billing"),
    "refund": ("money", "back", "return", "reimburse"),
    "bug": ("error", "crash", "broken", "fail", "exception", "glitch", "freeze", "hang"),
    "feature": ("add", "wish", "suggest", "idea", "missing", "option", "improve"),
    "account": ("login", "log", "password", "sign", "locked", "username", "profile"),
    "shipping": ("delivery", "package", "arrive", "track", "courier", "shipped", "late"),
    "security": ("hack", "breach", "phish", "vulnerab", "leak", "fraud"),
    "spam": ("unsubscribe", "winner", "prize", "click", "offer", "free"),
    "positive": ("love", "great", "excellent", "happy", "good", "thank", "amazing", "awesome",
                 "perfect", "best", "like", "recommend", "fantastic", "pleased"),
    "negative": ("hate", "terrible", "awful", "bad", "angry", "broken", "worst", "disappoint",
                 "poor", "slow", "useless", "annoy", "frustrat", "never", "wrong"),
    "urgent": ("asap", "immediately", "critical", "emergency", "now", "urgent", "down"),
    "high": ("asap", "immediately", "critical", "emergency", "urgent", "outage", "down"),
    "low": ("minor", "whenever", "eventually", "small", "cosmetic"),
    "question": ("how", "what", "why", "when", "where", "can", "question"),
    "complaint": ("unhappy", "disappoint", "angry", "terrible", "complain", "worst"),
    "praise": ("love", "great", "thank", "excellent", "amazing"),
}
FALLBACK_OPTIONS = ("other", "unknown", "none", "neutral", "misc", "miscellaneous",
                     "unclassified", "general", "n/a", "na")


class _Matcher:
    """Scores options against a text's words: own words weigh 2, cue words 1.

    A text stem matches a term when equal, or when one is a prefix of the other and both have
    at least 4 letters ("charg" ~ "charge", "bill" ~ "billing"). Lookups are by dict, so the cost
    per text word is a handful of hash probes, whatever the number of options.
    """

    def __init__(self, options: tuple[str, ...]) -> None:
        self.options = options
        terms: list[dict[str, int]] = []
        for opt in options:
            weights: dict[str, int] = {}
            for word in _WORD.findall(opt.lower().replace("_", " ").replace("-", " ")):
                stem = _stem(word)
                weights[stem] = 2
                for cue in _CUES.get(word, ()) + _CUES.get(stem, ()):
                    weights.setdefault(_stem(cue), 1)
            terms.append(weights)
        # term -> [(option index, weight)]; prefixes (len >= 4) of each term too, for "text
        # word is a prefix of the term"; the set of term lengths, for "term is a prefix of it".
        self.exact: dict[str, list[tuple[int, int]]] = {}
        self.prefixes: dict[str, list[tuple[int, int]]] = {}
        for i, weights in enumerate(terms):
            for term, w in weights.items():
                self.exact.setdefault(term, []).append((i, w))
                for n in range(min(4, len(term)), len(term) + 1):
                    self.prefixes.setdefault(term[:n], []).append((i, w))
        self.lengths = sorted({len(t) for t in self.exact if len(t) >= 4})
        # Any hit of a stem of 4+ letters shares its first 4 with a term: most words of a text
        # are ruled out by this one probe.
        self.heads = {t[:4] for t in self.exact if len(t) >= 4}
        # (words seen, hits of those that hit something). Most words of a text hit nothing, so
        # scoring is two set operations in C plus a step per hitting word. Replaced whole when
        # too big (bounded memory over a huge, varied batch), so a thread scoring meanwhile
        # keeps a consistent pair.
        self.memo: tuple[set[str], dict[str, tuple[tuple[int, int], ...]]] = (set(), {})

    def _hits(self, word: str) -> tuple[tuple[int, int], ...]:
        stem = _stem(word)
        size = len(stem)
        if size < 4:
            return tuple(self.exact.get(stem, ()))
        if stem[:4] not in self.heads:
            return ()
        hits = list(self.prefixes.get(stem, ()))
        for n in self.lengths:
            if n >= size:
                break
            hits.extend(self.exact.get(stem[:n], ()))
        return tuple(hits)

    def scores(self, words: list[str], distinct: AbstractSet[str] | None = None) -> list[int]:
        """Per option, the weights of its hits summed over ``words`` (``distinct``: their set,
        when the caller has it)."""
        if distinct is None:
            distinct = set(words)
        seen, hitting = self.memo
        new = distinct - seen
        if new:
            if len(seen) > 100_000:
                seen, hitting = self.memo = (set(), {})
                new = set(distinct)
            for word in new:
                if hits := self._hits(word):
                    hitting[word] = hits
            seen |= new  # after ``hitting``: a word in ``seen`` has its hits recorded
        score = [0] * len(self.options)
        for word in hitting.keys() & distinct:
            n = words.count(word)
            for i, w in hitting[word]:
                score[i] += w * n
        return score


@lru_cache(maxsize=512)
def matcher(options: tuple[str, ...]) -> _Matcher:
    return _Matcher(options)


def fallback_option(options: list[Any], seed: int) -> Any:
    for opt in options:
        if isinstance(opt, str) and opt.lower() in FALLBACK_OPTIONS:
            return opt
    return options[seed % len(options)]


def choose_enum(options: list[Any], words: list[str], seed: int | Callable[[], int],
                distinct: AbstractSet[str] | None = None) -> Any:
    """The option whose words occur most in the text; ties go to the earlier option.

    ``seed`` picks an option when no word matches; a callable is only called then (hashing
    the text for every enum of every request cost more than scoring it).
    """
    strings = tuple(o for o in options if isinstance(o, str))
    if strings:
        scores = matcher(strings).scores(words, distinct)
        top = max(scores)
        if top > 0:
            return strings[scores.index(top)]  # the first of the best
    return fallback_option(options, seed if isinstance(seed, int) else seed())


def ranked_enum(options: list[Any], words: list[str]) -> list[Any]:
    """Options with a positive score, best first (for arrays of enums)."""
    strings = tuple(o for o in options if isinstance(o, str))
    if not strings:
        return []
    scores = matcher(strings).scores(words)
    order = sorted((i for i in range(len(strings)) if scores[i] > 0), key=lambda i: -scores[i])
    return [strings[i] for i in order]
