"""The provider interface: declared limits, plus submit/retrieve/download/cancel (I/O).

Chunking, retries and bookkeeping live once, in the runner; a provider only moves bytes and
reports what its API says.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchsql.plan import Limits

TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


@dataclass(frozen=True)
class BatchInfo:
    """What the provider says about one batch."""

    id: str
    status: str
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def terminal(self) -> bool:
        """True once the provider will not change this batch any more."""
        return self.status in TERMINAL


class Provider(ABC):
    """A batch API. Subclasses declare their limits as class attributes."""

    name: str = ""
    #: Most requests one batch may hold.
    MAX_REQUESTS: int = 0
    #: Largest input file, in bytes, as encoded JSONL.
    MAX_BYTES: int = 0

    def limits(self) -> Limits:
        return Limits(max_requests=self.MAX_REQUESTS, max_bytes=self.MAX_BYTES)

    @abstractmethod
    def submit(self, path: Path, *, endpoint: str, metadata: dict[str, str]) -> BatchInfo:
        """Upload a JSONL file of requests and create a batch from it."""

    @abstractmethod
    def retrieve(self, batch_id: str) -> BatchInfo:
        """The batch's current state."""

    @abstractmethod
    def download(self, file_id: str, dest: Path) -> Path:
        """Stream a result file to ``dest`` and return it."""

    @abstractmethod
    def cancel(self, batch_id: str) -> BatchInfo:
        """Ask the provider to stop a batch; finished lines stay collectable."""

    def close(self) -> None:  # noqa: B027 - optional hook; most providers hold nothing
        """Release connections (and, for the emulator, stop its server)."""
