"""The provider interface: declared limits, plus submit/retrieve/read/cancel (I/O).

Chunking, retries and bookkeeping live once, in the runner; a provider only moves bytes and
reports what its API says.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
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
    metadata: dict[str, str] = field(default_factory=dict)
    created_at: int = 0
    #: For the batch a ``create`` returned: the HTTP requests that create took. More than one
    #: (a retry) may have left another batch made by an earlier attempt; 0: not from a create.
    create_attempts: int = 0

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
        return self.declared_limits()

    @classmethod
    def declared_limits(cls) -> Limits:
        """The class's limits, known without connecting (a dry run needs them too)."""
        return Limits(max_requests=cls.MAX_REQUESTS, max_bytes=cls.MAX_BYTES)

    @abstractmethod
    def upload(self, path: Path) -> str:
        """Upload a JSONL file of requests; returns the provider's file id."""

    @abstractmethod
    def create(self, file_id: str, *, endpoint: str, metadata: dict[str, str]) -> BatchInfo:
        """Create a batch from an uploaded file (``create_attempts`` set: see BatchInfo)."""

    @abstractmethod
    def find_batches(self, key: str, value: str, *, since: int) -> list[BatchInfo]:
        """Batches created at or after ``since`` (epoch s) whose metadata[key] == value."""

    @abstractmethod
    def find_file(self, filename: str, *, since: int) -> str | None:
        """The id of an uploaded batch input file with this name, if one exists."""

    @abstractmethod
    def file_exists(self, file_id: str) -> bool:
        """Whether an uploaded file is still there."""

    @abstractmethod
    def delete_file(self, file_id: str) -> None:
        """Delete an uploaded file (an orphan whose batch will never be created)."""

    @abstractmethod
    def retrieve(self, batch_id: str) -> BatchInfo:
        """The batch's current state."""

    @abstractmethod
    def file_chunks(self, file_id: str) -> Iterator[bytes]:
        """A result file's bytes in chunks, as they arrive; closing the iterator (or reading
        it to the end) ends the download. A download that breaks off is resumed where it can
        be; otherwise it raises ProviderError, never a network library's own error."""

    @abstractmethod
    def cancel(self, batch_id: str) -> BatchInfo:
        """Ask the provider to stop a batch; finished lines stay collectable."""

    def close(self) -> None:  # noqa: B027 - optional hook; most providers hold nothing
        """Release connections (and, for the emulator, stop its server)."""
