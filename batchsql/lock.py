"""One run of a spec at a time: a row in a lock table, guarded by its primary key.

Two runs of the same spec at once would both see the same rows pending and submit them twice, so
a run first inserts ``(spec, run_id, who, where, when)`` into ``_batchsql_locks``. The primary key
on ``spec`` makes a second insert fail; the loser reads who holds the lock and waits or stops.
A plain INSERT is used on purpose: MERGE and ON CONFLICT do not transpile across warehouses.

Some warehouses declare primary keys without enforcing them (Snowflake, BigQuery) or have none
(Spark, Databricks outside Unity Catalog), so after inserting, a run reads the rows of its spec
back and keeps the lock only if its row is the only one; otherwise it deletes its own row and
tries again. With an enforced key this read is a formality; without one it is what keeps two
runs apart.

A holder that stopped refreshing ``heartbeat_at`` for ``stale_after`` seconds, or whose process on
this host is gone, is taken over: exactly its row is deleted and the insert retried.
Every statement runs on its own (autocommit), so a row is visible to other runs at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import random
import socket
import time
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from batchsql import sql
from batchsql.errors import LockedError, WarehouseError
from batchsql.warehouses.base import Warehouse

LOCK_COLUMNS: list[tuple[str, str]] = [
    ("spec", "varchar"), ("run_id", "varchar"), ("user_name", "varchar"), ("host", "varchar"),
    ("pid", "bigint"), ("acquired_at", "timestamp"), ("heartbeat_at", "timestamp"),
]
_NAMES = [n for n, _ in LOCK_COLUMNS]

#: Rounds without a pause (stale takeovers, failed inserts with nobody holding) before giving up.
_MAX_SPINS = 10
#: Attempts at creating the lock table while other runs may be creating it too.
_CREATE_TRIES = 3


@dataclass(frozen=True)
class Holder:
    """Who holds the lock of a spec. Times are naive UTC."""

    run_id: str
    user: str
    host: str
    pid: int
    acquired_at: dt.datetime
    heartbeat_at: dt.datetime | None = None

    @property
    def last_seen(self) -> dt.datetime:
        return self.heartbeat_at or self.acquired_at


# --- statements (sqlglot trees; every value is a bound parameter) -------------------------------

def create_lock_table(table: exp.Table, dialect: str | None = None) -> exp.Create:
    """CREATE TABLE IF NOT EXISTS with ``spec`` as its primary key."""
    defs: list[exp.Expression] = []
    for name, kind in LOCK_COLUMNS:
        constraints = ([exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())]
                       if name == "spec" else [])
        defs.append(exp.ColumnDef(this=exp.to_identifier(name, quoted=True),
                                  kind=sql.dtype(kind, dialect), constraints=constraints))
    # BigQuery only accepts primary keys it does not enforce, and says so. Spark has no table
    # constraints, and Databricks takes them only on Unity Catalog tables (never enforced):
    # there the read-back in SpecLock alone keeps two runs apart.
    if dialect not in ("spark", "databricks"):
        options = [exp.var("NOT ENFORCED")] if dialect == "bigquery" else None
        defs.append(exp.PrimaryKey(expressions=[exp.to_identifier("spec", quoted=True)],
                                   options=options))
    return exp.Create(this=exp.Schema(this=table.copy(), expressions=defs), kind="TABLE",
                      exists=True)


def insert_lock(table: exp.Table) -> exp.Insert:
    """Parameters: every column of LOCK_COLUMNS, in order."""
    values = exp.Values(expressions=[exp.Tuple(expressions=[sql.param() for _ in _NAMES])])
    return sql.insert_select(table, _NAMES, values)


def select_holders(table: exp.Table) -> exp.Select:
    """Rows of one spec (parameter), oldest first."""
    return (exp.select(*(sql.col(n) for n in _NAMES)).from_(table.copy())
            .where(sql.col("spec").eq(sql.param()))
            .order_by(sql.col("acquired_at"), sql.col("run_id")))


def _one_holder() -> exp.Expression:
    return exp.and_(sql.col("spec").eq(sql.param()), sql.col("run_id").eq(sql.param()))


def delete_holder(table: exp.Table) -> exp.Delete:
    """Exactly one holder's row. Parameters: spec, run_id."""
    return sql.delete_where(table, _one_holder())


def touch_holder(table: exp.Table) -> exp.Update:
    """Refresh one holder's heartbeat. Parameters: heartbeat_at, spec, run_id."""
    return sql.update(table, {"heartbeat_at": sql.param()}, _one_holder())


# --- the lock ------------------------------------------------------------------------------------

class SpecLock:
    """Holds the lock of one spec for one run; use as a context manager or acquire/release."""

    def __init__(self, wh: Warehouse, table: exp.Table, spec: str, run_id: str, *,
                 wait: float = 0.0, stale_after: float = 900.0, poll: float = 0.5) -> None:
        self.wh = wh
        self.table = table
        self.spec = spec
        self.run_id = run_id
        self.wait = max(wait, 0.0)
        self.stale_after = stale_after
        self.poll = max(poll, 0.01)
        self.user = _user()
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.held = False
        self._ready = False

    def __enter__(self) -> SpecLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, waiting up to ``wait`` seconds; LockedError names who holds it."""
        if self.held:
            return
        self._ensure_table()
        try:
            self._take()
        except BaseException:
            # Never leave a row behind when giving up or interrupted (e.g. Ctrl-C while waiting).
            with contextlib.suppress(WarehouseError):
                self._delete(self.run_id)
            raise

    def _take(self) -> None:
        started = time.monotonic()
        deadline = started + self.wait
        spins = ties = 0
        last_error: WarehouseError | None = None
        while True:
            now = _now()
            last_error = None
            try:
                self.wh.execute(insert_lock(self.table), [
                    self.spec, self.run_id, self.user, self.host, self.pid, now, now])
            except WarehouseError as e:  # the primary key said no (or the insert failed)
                last_error = e
            rows = self._holders()
            others = [h for h in rows if h.run_id != self.run_id]
            mine = len(others) < len(rows)
            if mine and not others:
                self.held = True
                return
            if mine:  # an unenforced key let two rows in: neither keeps the lock
                self._delete(self.run_id)
                ties += 1
            live = []
            for h in others:
                if self._is_stale(h, now):
                    self._delete(h.run_id)
                else:
                    live.append(h)
            if not live:
                spins += 1
                if spins < _MAX_SPINS:
                    continue  # free now (or taken over): insert again at once
                if last_error is not None and not others:
                    raise last_error
                raise LockedError(f"could not take the lock of {self.spec!r} in "
                                  f"{self.wh.render(self.table)}: its row keeps coming back")
            spins = 0
            tied = mine and ties <= 3  # a tie is retried even without --lock-wait
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not tied:
                raise LockedError(self._refusal(live[0], time.monotonic() - started))
            # Jitter keeps two runs that tied from tying again.
            pause = random.uniform(0, self.poll) if tied else min(
                self.poll * random.uniform(0.8, 1.2), remaining)
            time.sleep(pause)

    def heartbeat(self) -> None:
        """Refresh ``heartbeat_at``; LockedError if the lock was taken over meanwhile."""
        if not self.held:
            raise LockedError(f"run {self.run_id} does not hold the lock of {self.spec!r}")
        self.wh.execute(touch_holder(self.table), [_now(), self.spec, self.run_id])
        rows = self._holders()
        if not any(h.run_id == self.run_id for h in rows):
            self.held = False
            now_held = f"; run {rows[0].run_id} by {_who(rows[0])} holds it now" if rows else ""
            raise LockedError(
                f"run {self.run_id} no longer holds the lock of {self.spec!r}: it went more than "
                f"{_duration(self.stale_after)} without a heartbeat and was taken over, or its "
                f"row was deleted{now_held}")

    def release(self) -> None:
        """Delete this run's row (never anyone else's); harmless when not held."""
        if self._ready or self.held:
            self._delete(self.run_id)
        self.held = False

    def holder(self) -> Holder | None:
        """Who holds the lock now (this run included), or None when nobody does."""
        if not self._ready and self.wh.table_columns(self.table) is None:
            return None
        rows = self._holders()
        return rows[0] if rows else None

    # -- helpers --

    def _ensure_table(self) -> None:
        if self._ready:
            return
        for attempt in range(_CREATE_TRIES):
            try:
                schema = sql.create_schema(self.table)
                if schema is not None:
                    self.wh.execute(schema)
                self.wh.execute(create_lock_table(self.table, self.wh.dialect))
                break
            except WarehouseError:
                # Another run may be creating the schema or table at the same moment, and its
                # commit made ours fail: try again. Only a table that stays missing matters.
                if self.wh.table_columns(self.table) is not None:
                    break
                if attempt == _CREATE_TRIES - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.1))
        self._ready = True

    def _holders(self) -> list[Holder]:
        return [_holder(dict(zip(_NAMES, row, strict=True)))
                for row in self.wh.fetch(select_holders(self.table), [self.spec])]

    def _delete(self, run_id: str) -> None:
        self.wh.execute(delete_holder(self.table), [self.spec, run_id])

    def _is_stale(self, h: Holder, now: dt.datetime) -> bool:
        if (now - h.last_seen).total_seconds() > self.stale_after:
            return True
        return h.host == self.host and not _pid_alive(h.pid)

    def _refusal(self, h: Holder, waited: float) -> str:
        seen = _duration((_now() - h.last_seen).total_seconds())
        since = h.acquired_at.strftime("%Y-%m-%d %H:%M:%S")
        text = (f"another run of {self.spec!r} holds the lock: run {h.run_id} by {_who(h)} "
                f"since {since} UTC, last seen {seen} ago")
        if self.wait > 0:
            text += f"; still held after waiting {_duration(waited)}"
        return (text + "; wait for it, or pass --lock-wait SECONDS (a lock not refreshed for "
                f"{_duration(self.stale_after)} is taken over)")


def _holder(row: dict[str, Any]) -> Holder:
    return Holder(run_id=str(row["run_id"]), user=str(row["user_name"] or "?"),
                  host=str(row["host"] or "?"), pid=int(row["pid"] or 0),
                  acquired_at=_naive_utc(row["acquired_at"]),
                  heartbeat_at=_naive_utc(row["heartbeat_at"]) if row["heartbeat_at"] else None)


def _who(h: Holder) -> str:
    return f"{h.user}@{h.host} (pid {h.pid})"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{max(round(seconds, 1), 0):g} s"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def _pid_alive(pid: int) -> bool:
    """Whether a process of this host still runs; when in doubt, yes (the heartbeat decides)."""
    if pid <= 0 or os.name == "nt":  # on Windows os.kill(pid, 0) would terminate it
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True
