"""batchsql inside another program's DuckDB connection: the engine behind dbt pre-hooks.

A dbt-duckdb model cannot start batchsql as a second process (DuckDB lets one process open a
database file), so a hook runs batchsql in dbt's process, on a cursor of dbt's own connection,
through two SQL functions this module registers: ``batchsql_run(spec[, mode])`` and
``batchsql_status(spec)``. Nothing here imports dbt (``batchsql.dbt`` is the plugin that tells
this module where dbt runs), so it is tested on a plain DuckDB connection too.

- **Modes**: ``submit`` (the default: collect what finished, submit what is pending, return),
  ``wait`` and ``wait:SECONDS`` (also poll until collected, at most that long: for development).
- **Once per invocation**: models that hook the same spec in one dbt invocation, on any thread,
  share one run; the second caller waits for the first and gets its answer.
- **Write-write conflicts**: dbt's threads and other specs' hooks write to the same database at
  once, and DuckDB refuses the second of two concurrent catalog changes (``CREATE SCHEMA``, the
  shared system tables). Such a refusal is transient: it is retried.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from batchsql import api
from batchsql.errors import BatchsqlError, LockedError, WarehouseError
from batchsql.runner import RunSummary
from batchsql.warehouses.base import Statement
from batchsql.warehouses.duckdb import DuckDBWarehouse

#: Default time limit of ``wait`` mode, in seconds: a hook must never hang a build for hours.
DEFAULT_MAX_WAIT = 600.0
#: Whole runs tried when a conflict hit inside a transaction (a statement alone is retried).
RUN_ATTEMPTS = 5

Cursor = Any  # a DuckDB connection or cursor, possibly wrapped by dbt-duckdb
Where = Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class Mode:
    """How a hook runs a spec: submit and return, or also wait (at most ``max_wait`` s)."""

    wait: bool = False
    max_wait: float | None = None


def parse_mode(text: str | None, *, default_max_wait: float = DEFAULT_MAX_WAIT) -> Mode:
    """``submit`` (or empty), ``wait`` (``default_max_wait``) or ``wait:SECONDS``."""
    word = (text or "submit").strip().lower()
    if word == "submit":
        return Mode()
    if word == "wait":
        return Mode(wait=True, max_wait=default_max_wait)
    if word.startswith("wait:"):
        try:
            seconds = float(word[5:])
        except ValueError:
            seconds = 0.0
        if seconds > 0:
            return Mode(wait=True, max_wait=seconds)
    raise BatchsqlError(f"unknown batchsql_run mode {text!r}: use 'submit' (the default), "
                        "'wait', or 'wait:SECONDS' (e.g. 'wait:300')")


def is_conflict(error: BaseException) -> bool:
    """Whether DuckDB refused a statement because a concurrent transaction wrote first.

    The chain of causes is searched: cleaning up after a conflict inside a transaction can fail
    in turn ("transaction is aborted") and hide the conflict as its context.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, duckdb.TransactionException) and "onflict" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


class SharedDuckDB(DuckDBWarehouse):
    """A cursor of someone else's DuckDB connection, whose other threads write at the same time.

    A statement outside a transaction that lost a write-write conflict changed nothing, so it is
    run again after a short pause, for up to ``patience`` seconds. Inside a transaction a
    conflict spoils the whole transaction, so it is raised (and the run retried, see HookRunner).
    """

    def __init__(self, cursor: Cursor, *, patience: float = 30.0) -> None:
        super().__init__(connection=cursor)
        self.patience = patience
        self.conflicts = 0
        self._depth = 0

    def execute(self, statement: Statement, params: Any = ()) -> None:
        if self._depth:
            return super().execute(statement, params)
        deadline = time.monotonic() + self.patience
        pause = 0.01
        while True:
            try:
                return super().execute(statement, params)
            except WarehouseError as e:
                if not is_conflict(e) or time.monotonic() >= deadline:
                    raise
                self.conflicts += 1
                time.sleep(random.uniform(pause / 2, pause))
                pause = min(pause * 2, 0.5)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._depth += 1
        try:
            with super().transaction():
                yield
        finally:
            self._depth -= 1


@dataclass
class _Once:
    """One spec's run in one invocation; its lock makes a second caller wait for the first."""

    lock: threading.Lock
    line: str | None = None
    error: str | None = None


class HookRunner:
    """Runs and reports specs for hooks, on cursors of a borrowed DuckDB connection.

    ``where()`` returns ``api.resolve``'s arguments (``project_dir``, ``profiles_dir``,
    ``profile``, ``target``), asked at each call because the host may change them between
    invocations; spec paths are relative to ``project_dir``. ``invocation()`` names the host's
    current invocation: within one, each spec runs at most once.
    """

    def __init__(self, where: Where, invocation: Callable[[], str], *,
                 default_max_wait: float = DEFAULT_MAX_WAIT) -> None:
        self.where = where
        self.invocation = invocation
        self.default_max_wait = default_max_wait
        self._guard = threading.Lock()
        self._current: str | None = None
        self._runs: dict[Path, _Once] = {}

    def register(self, connection: duckdb.DuckDBPyConnection,
                 cursor: Callable[[], Cursor] | None = None) -> None:
        """Add ``batchsql_run(spec[, mode])`` and ``batchsql_status(spec)`` to a connection.

        ``cursor()`` opens the cursor each call works on (default: ``connection.cursor()``);
        a call runs inside the caller's query, so it must not use the caller's cursor.
        """
        open_cursor = cursor or connection.cursor

        def run(*args: Any) -> str:
            spec, mode = _arguments("batchsql_run", args, 2)
            return self.run(open_cursor, spec, mode)

        def status(*args: Any) -> str:
            spec, _ = _arguments("batchsql_status", args, 1)
            return self.status(open_cursor, spec)

        # No parameter list: DuckDB then takes any arguments, which stands in for an optional
        # second one (it allows one Python function per name, so no overloads).
        connection.create_function("batchsql_run", run, None, "VARCHAR", side_effects=True)
        connection.create_function("batchsql_status", status, None, "VARCHAR",
                                   side_effects=True)

    def run(self, cursor: Callable[[], Cursor], spec: str, mode: str | None = None) -> str:
        """Run a spec (once per invocation) and return one line saying what the run did."""
        how = parse_mode(mode, default_max_wait=self.default_max_wait)
        where = self.where()
        path = spec_path(spec, where)
        once = self._claim(path)
        with once.lock:
            if once.error is not None:
                raise BatchsqlError(f"{spec}: the run of this spec that another hook started in "
                                    f"this invocation failed: {once.error}")
            if once.line is not None:
                return f"{once.line} (run once for this invocation by another hook)"
            try:
                once.line = self._run(cursor, path, how, where)
            except BaseException as e:
                once.error = str(e) or type(e).__name__
                raise
            return once.line

    def status(self, cursor: Callable[[], Cursor], spec: str) -> str:
        """One line: outcomes so far, batches in flight, money spent."""
        where = self.where()
        con = cursor()
        try:
            report = api.status(spec_path(spec, where), warehouse=SharedDuckDB(con), **where)
        finally:
            con.close()
        return status_line(report)

    def _claim(self, path: Path) -> _Once:
        with self._guard:
            invocation = self.invocation()
            if invocation != self._current:  # a new invocation: every spec may run again
                self._current, self._runs = invocation, {}
            return self._runs.setdefault(path, _Once(threading.Lock()))

    def _run(self, cursor: Callable[[], Cursor], path: Path, how: Mode,
             where: dict[str, Any]) -> str:
        for attempt in range(1, RUN_ATTEMPTS + 1):
            con = cursor()
            try:
                summary = api.run(path, wait=how.wait, max_wait=how.max_wait,
                                  warehouse=SharedDuckDB(con), **where)
                # Earlier attempts are in the runs table; the line tells what the last one did.
                again = f" (run {attempt} times: write-write conflicts)" if attempt > 1 else ""
                return run_line(summary) + again
            except LockedError as e:  # another process runs it: this build goes on without
                return f"{path.stem}: skipped: {e}"
            except (WarehouseError, duckdb.Error) as e:
                # A conflict inside one of the run's transactions rolled it back; runs are
                # built to be resumed from any point, so the next attempt picks up from there.
                if not is_conflict(e) or attempt == RUN_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.05, 0.2) * attempt)
            finally:
                con.close()
        raise AssertionError("unreachable")  # pragma: no cover


def spec_path(spec: str, where: dict[str, Any]) -> Path:
    """A spec path as written in a hook, relative to the project folder."""
    path = Path(spec).expanduser()
    if not path.is_absolute():
        path = Path(where.get("project_dir") or Path.cwd()) / path
    return path.resolve()


def _arguments(name: str, args: tuple[Any, ...], most: int) -> tuple[str, str | None]:
    if not 1 <= len(args) <= most or not all(isinstance(a, str) for a in args):
        shape = "(spec)" if most == 1 else "(spec[, mode])"
        raise BatchsqlError(f"{name}{shape} takes text arguments, e.g. "
                            f"{name}('ai/ticket_labels.yml'); got {len(args)} argument(s)")
    return args[0], args[1] if len(args) > 1 else None


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "es" if word.endswith("h") else "s")


def _counts(outcomes: dict[str, int]) -> str:
    """``7 succeeded, 1 expired, 2 failed``: successes first, the rest by name."""
    ordered = sorted(outcomes.items(), key=lambda item: (item[0] != "succeeded", item[0]))
    return ", ".join(f"{n:,} {status}" for status, n in ordered if n > 0)


def run_line(s: RunSummary) -> str:
    """e.g. ``ticket_labels: collected 1 batch (1,200 succeeded); submitted 0; 0 in flight``."""
    collected = _count(s.collected_batches, "batch")
    from_batches = {k: n for k, n in s.outcomes.items() if n}
    from_batches["succeeded"] = from_batches.get("succeeded", 0) - s.reused
    if s.not_sent:
        from_batches["failed"] = from_batches.get("failed", 0) - s.not_sent
    counts = _counts(from_batches)
    parts = [f"collected {collected}" + (f" ({counts})" if s.collected_batches and counts else "")]
    if s.reused:
        parts.append(f"reused {s.reused:,} earlier answers")
    if s.submitted:
        batches = _count(s.batches_submitted, "batch")
        parts.append(f"submitted {s.submitted:,} requests in {batches}")
    else:
        parts.append("submitted 0" + ("" if s.selected else " (nothing pending)"))
    if s.not_sent:
        parts.append(f"{s.not_sent:,} rows could not be sent")
    if s.over_budget:
        parts.append(f"{s.over_budget:,} rows over budget")
    if s.deferred:
        parts.append(f"{s.deferred:,} rows wait for the token limit")
    if s.given_up:
        parts.append(f"{s.given_up:,} rows gave up")
    parts.append(f"{s.in_flight} in flight")
    return f"{s.spec}: " + "; ".join(parts)


def status_line(report: api.Status) -> str:
    """e.g. ``ticket_labels: 1,200 keys with a result (1,200 succeeded); 0 in flight; $0.0337``."""
    if not report.outcomes and not report.in_flight:
        return f"{report.spec}: nothing run yet"
    counts = _counts(report.outcomes)
    parts = [f"{report.keys_with_result:,} keys with a result" + (f" ({counts})" if counts else ""),
             f"{len(report.in_flight)} in flight"]
    if report.cost_usd is not None:
        parts.append(f"${report.cost_usd:,.4f} spent")
    if report.lock_holder is not None:
        parts.append(f"running now (run {report.lock_holder.run_id})")
    return f"{report.spec}: " + "; ".join(parts)
