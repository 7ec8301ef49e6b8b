"""On-disk state of the emulator: files, batches, counters, faults and the clock.

Everything lives under one folder so that a new server process on the same folder (another
port, after a restart) sees exactly what the previous one left. Layout::

    state_dir/
      faults.json  clock.json  counters.json  fail_counts.json
      files/<file_id>.json      metadata (OpenAI File object)
      files/<file_id>.bin       the bytes
      batches/<batch_id>.json   the batch record (public fields + emulator bookkeeping)
      batches/<batch_id>.input  the batch's own link to its input bytes
      locks/                    inter-process lock files
      tmp/                      half-written files, renamed into place when complete

JSON is always written to a temporary file and moved into place with ``os.replace`` so that a
reader (another thread, another process) sees either the old or the new document, never a torn
one. Read-modify-write sequences take an in-process lock *and* an inter-process file lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .faults import Faults

try:  # POSIX: real inter-process locks.
    import fcntl
except ImportError:  # pragma: no cover - Windows: in-process locking only.
    fcntl = None  # type: ignore[assignment]


def new_id(prefix: str) -> str:
    """A fresh random id shaped like OpenAI's (``file-…``, ``batch_…``)."""
    return prefix + secrets.token_hex(12)


class Store:
    """The state folder, with atomic writes and locking around every read-modify-write."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.files_dir = self.root / "files"
        self.batches_dir = self.root / "batches"
        self.locks_dir = self.root / "locks"
        self.tmp_dir = self.root / "tmp"
        for d in (self.files_dir, self.batches_dir, self.locks_dir, self.tmp_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._mutex = threading.RLock()
        self._named: dict[str, threading.RLock] = {}
        self._depth: dict[str, int] = {}

    # -- primitives -----------------------------------------------------------------------------
    def tmp_path(self, suffix: str = "") -> Path:
        """A unique path in the state folder's tmp/ (same filesystem, so os.replace is atomic)."""
        name = f"{os.getpid()}-{threading.get_ident()}-{secrets.token_hex(6)}{suffix}"
        return self.tmp_dir / name

    def read_json(self, path: Path, default: Any = None) -> Any:
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return default

    def write_json(self, path: Path, obj: Any) -> None:
        tmp = self.tmp_path(".json")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)

    @contextlib.contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """Hold the lock ``name`` against other threads of this process and other processes.

        Re-entrant within a thread: only the outermost hold takes the file lock (a second
        ``flock`` on a new descriptor of the same file would wait for ourselves).
        """
        with self._mutex:
            lock = self._named.setdefault(name, threading.RLock())
        with lock:
            depth = self._depth.get(name, 0)  # only the holder of ``lock`` touches this key
            self._depth[name] = depth + 1
            try:
                if depth or fcntl is None:
                    yield
                    return
                with open(self.locks_dir / f"{name}.lock", "a+b") as fh:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                    try:
                        yield
                    finally:
                        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            finally:
                self._depth[name] = depth

    # -- counters, faults, clock ----------------------------------------------------------------
    def bump(self, name: str, n: int = 1) -> int:
        """Add ``n`` to a persistent counter and return its new value."""
        with self.locked("counters"):
            path = self.root / "counters.json"
            counters = self.read_json(path, {})
            counters[name] = counters.get(name, 0) + n
            self.write_json(path, counters)
            return counters[name]

    def take(self, name: str, limit: int) -> bool:
        """Increment counter ``name`` unless it already reached ``limit``; True if it did."""
        with self.locked("counters"):
            path = self.root / "counters.json"
            counters = self.read_json(path, {})
            if counters.get(name, 0) >= limit:
                return False
            counters[name] = counters.get(name, 0) + 1
            self.write_json(path, counters)
            return True

    def set_counter(self, name: str, value: int) -> None:
        with self.locked("counters"):
            path = self.root / "counters.json"
            counters = self.read_json(path, {})
            counters[name] = value
            self.write_json(path, counters)

    def counters(self) -> dict[str, int]:
        return self.read_json(self.root / "counters.json", {})

    def load_faults(self) -> Faults:
        data = self.read_json(self.root / "faults.json")
        return Faults.model_validate(data) if data else Faults()

    def save_faults(self, faults: Faults) -> None:
        with self.locked("faults"):
            self.write_json(self.root / "faults.json", faults.model_dump())
        # A new fault scenario starts counting its injected HTTP errors (and cuts) from zero.
        self.set_counter("http_faults_since_set", 0)
        self.set_counter("download_cuts_since_set", 0)

    def clock_offset(self) -> float:
        return float(self.read_json(self.root / "clock.json", {}).get("offset", 0.0))

    def advance_clock(self, seconds: float) -> float:
        with self.locked("clock"):
            offset = self.clock_offset() + float(seconds)
            self.write_json(self.root / "clock.json", {"offset": offset})
            return offset

    def now(self) -> float:
        """The emulator's clock: wall time plus the persisted offset."""
        return time.time() + self.clock_offset()

    # -- files ----------------------------------------------------------------------------------
    def file_path(self, file_id: str) -> Path:
        return self.files_dir / f"{file_id}.bin"

    def add_file(self, src: Path, *, filename: str, purpose: str, created_at: int,
                 expires_at: int | None = None, file_id: str | None = None) -> dict[str, Any]:
        """Move the finished file ``src`` into the store and return its File object."""
        file_id = file_id or new_id("file-")
        size = src.stat().st_size
        os.replace(src, self.file_path(file_id))
        meta = {
            "id": file_id, "object": "file", "bytes": size, "created_at": created_at,
            "expires_at": expires_at, "filename": filename, "purpose": purpose,
            "status": "processed", "status_details": None,
        }
        self.write_json(self.files_dir / f"{file_id}.json", meta)
        return meta

    def get_file(self, file_id: str) -> dict[str, Any] | None:
        if not _safe_id(file_id):
            return None
        return self.read_json(self.files_dir / f"{file_id}.json")

    def list_files(self) -> list[dict[str, Any]]:
        out = []
        for p in self.files_dir.glob("*.json"):
            meta = self.read_json(p)
            if meta is not None:  # deleted between glob and read
                out.append(meta)
        return out

    def delete_file(self, file_id: str) -> bool:
        if not _safe_id(file_id):
            return False
        meta_path = self.files_dir / f"{file_id}.json"
        with self.locked("files"):
            if not meta_path.exists():
                return False
            meta_path.unlink()
            with contextlib.suppress(FileNotFoundError):
                self.file_path(file_id).unlink()
        return True

    # -- batches --------------------------------------------------------------------------------
    def batch_input_path(self, batch_id: str) -> Path:
        return self.batches_dir / f"{batch_id}.input"

    def link_input(self, file_id: str, batch_id: str) -> None:
        """Give the batch its own name for the input bytes, so deleting the file is harmless."""
        src, dst = self.file_path(file_id), self.batch_input_path(batch_id)
        try:
            os.link(src, dst)
        except OSError:  # no hard links on this filesystem
            shutil.copyfile(src, dst)

    def save_batch(self, record: dict[str, Any]) -> None:
        self.write_json(self.batches_dir / f"{record['id']}.json", record)

    def load_batch(self, batch_id: str) -> dict[str, Any] | None:
        if not _safe_id(batch_id):
            return None
        return self.read_json(self.batches_dir / f"{batch_id}.json")

    def list_batches(self) -> list[dict[str, Any]]:
        out = []
        for p in self.batches_dir.glob("*.json"):
            rec = self.read_json(p)
            if rec is not None:
                out.append(rec)
        return out

    # -- per-request failure counts (Faults.fail_times) -----------------------------------------
    def fail_counts_path(self) -> Path:
        return self.root / "fail_counts.json"


def _safe_id(value: str) -> bool:
    """Ids become file names: refuse anything that could escape the folder."""
    return bool(value) and len(value) < 200 and all(c.isalnum() or c in "-_" for c in value)
