"""DuckDB: the embedded default warehouse."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Generator, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from batchsql import sql
from batchsql.errors import LockedError, WarehouseError
from batchsql.profiles import Target
from batchsql.warehouses.base import Statement, Warehouse

#: DuckDB's refusal when another process holds the database file's lock, and the PID it names.
_FILE_LOCKED = "Could not set lock on file"
_LOCK_PID = re.compile(r"\(PID (\d+)\)")


#: DuckDB's memory cap for batchsql's own connection unless the profile's ``settings`` set one.
#: DuckDB's own default (80% of RAM) keeps every table it touched cached, so a run's memory
#: would grow with the table; under a cap, cached blocks are dropped and large intermediates
#: spill to a temp folder beside the database. Measured on a 1M-row run (bench/pipeline.py):
#: peak RSS 950 MB under 512MB, 660 MB under 192MB, for about 6% more CPU.
DEFAULT_MEMORY_LIMIT = "192MB"

#: Rows ``stream_while_writing`` reads back per query.
STREAM_PAGE_ROWS = 100_000

#: How much write-ahead log DuckDB gathers before it checkpoints, unless the profile says
#: otherwise. At DuckDB's 16MB a run checkpoints after nearly every collected batch, each time
#: rewriting the tables' last, partly filled row groups; at 256MB a 1M-row run spent about 12%
#: less CPU (37 against 42 s). But the rows of a log that size do not fit under the 192MB
#: memory cap until they are checkpointed: DuckDB moves them to its temp folder and back (594
#: MB written there in that run, 463 MB at 128MB). At 128MB the run was faster in 9 of 10
#: alternating pairs of full runs (as bench/ab.py runs them): median 1.3 s less own time,
#: 2.2 CPU s less (64MB gained less). The log is replayed if the process dies, so nothing is
#: lost.
DEFAULT_CHECKPOINT_THRESHOLD = "128MB"


def _connect(path: str, wait: float) -> duckdb.DuckDBPyConnection:
    """Open a database file, retrying every 0.25 s for ``wait`` s while another process has it.

    DuckDB lets one process at a time open a file for writing; a second one gets an IOException.
    """
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            return duckdb.connect(path)
        except duckdb.Error as e:
            if _FILE_LOCKED not in str(e):
                raise WarehouseError(f"cannot open DuckDB database {path!r}: {e}") from e
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _open_error(path, e, wait) from e
            time.sleep(min(0.25, remaining))


def _open_error(path: str, error: duckdb.Error, wait: float) -> WarehouseError:
    """The clear message for a file another process holds (or any other open failure)."""
    if _FILE_LOCKED not in str(error):
        return WarehouseError(f"cannot open DuckDB database {path!r}: {error}")
    pid = _LOCK_PID.search(str(error))
    who = f"another process (PID {pid.group(1)})" if pid else "another process"
    waited = f" (still open after waiting {wait:g} s)" if wait > 0 else ""
    return LockedError(f"{who} has {path} open{waited} — probably another batchsql run or a dbt "
                       "run; DuckDB allows one writing process at a time")


def _apply(con: duckdb.DuckDBPyConnection, settings: dict[str, Any]) -> None:
    """SET each option (as dbt-duckdb does). Not connect(config=...): DuckDB refuses a second
    connection to a file with another config than the process's first one (a dbt run's, a
    test's), and SET changes the one database instance they share."""
    for name, value in settings.items():
        if not _OPTION.fullmatch(name):
            raise WarehouseError(f"{name!r} is not a DuckDB option name")
        literal = str(value).lower() if isinstance(value, bool) else (
            str(value) if isinstance(value, int | float) else _quote_literal(str(value)))
        try:
            con.execute(f"set {name} = {literal}")
        except duckdb.Error as e:
            raise WarehouseError(f"DuckDB setting {name} = {value!r} in the profile: {e}") from e


_OPTION = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")



def _setting(value: Any) -> Any:
    """A profile value as DuckDB takes it (YAML gives bools and numbers as such)."""
    return value if isinstance(value, str | bool | int | float) else str(value)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBWarehouse(Warehouse):
    """A DuckDB database file (or ``:memory:``), or a connection someone else opened (dbt)."""

    dialect = "duckdb"
    streams_apart = True  # a stream reads on a cursor: a connection of its own

    def __init__(self, path: str | Path = ":memory:", *,
                 connection: duckdb.DuckDBPyConnection | None = None,
                 open_wait: float = 0.0, read_only: bool = False,
                 settings: dict[str, Any] | None = None) -> None:
        self.path = str(path)
        self.read_only = read_only
        self.config = {"memory_limit": DEFAULT_MEMORY_LIMIT,
                       "checkpoint_threshold": DEFAULT_CHECKPOINT_THRESHOLD,
                       **{str(k): _setting(v) for k, v in (settings or {}).items()}}
        self._owned = connection is None
        #: Whether the profile set DuckDB's memory limit (an out-of-memory error says whose).
        self._profile_limit = any(str(k) == "memory_limit" for k in settings or {})
        self._catalog: str | None = None
        #: The attached in-memory database of snapshot tables, once there is one.
        self._snapshots: str | None = None
        #: Names of the transient tables ``hold_arrow`` registered Arrow data under.
        self._held: set[str] = set()
        if connection is not None:
            self._con = connection
        elif read_only:
            self._con = self._attach_read_only(open_wait)
        else:
            self._con = _connect(self.path, open_wait)
            self._apply(self.config)

    def _apply(self, settings: dict[str, Any]) -> None:
        _apply(self._con, settings)

    @classmethod
    def from_target(cls, target: Target, *, base_dir: Path | None, open_wait: float,
                    read_only: bool) -> DuckDBWarehouse:
        """dbt-duckdb's ``path`` (relative to the project folder; default in memory) and its
        ``settings`` (DuckDB options such as ``memory_limit`` and ``threads``)."""
        path = str(target.fields.get("path") or ":memory:")
        if path != ":memory:" and base_dir is not None and not Path(path).is_absolute():
            path = str(base_dir / path)
        settings = target.fields.get("settings") or {}
        if not isinstance(settings, dict):
            raise WarehouseError("the DuckDB target's settings must be a mapping of DuckDB "
                                 "options, e.g. {memory_limit: 2GB, threads: 4}")
        return cls(path, open_wait=open_wait, read_only=read_only, settings=settings)

    def _attach_read_only(self, wait: float) -> duckdb.DuckDBPyConnection:
        """An in-memory database with the file attached read-only under its usual name.

        Reads see the file as a normal connection would; scratch tables go to the in-memory
        database, so a dry run can stage its work without writing a byte to the file. A file
        that does not exist yet is an empty warehouse: nothing is created.
        """
        con = duckdb.connect(":memory:")
        _apply(con, self.config)
        if self.path == ":memory:" or not Path(self.path).exists():
            return con
        self._catalog = Path(self.path).stem
        attach = (f"attach {_quote_literal(self.path)} as {_quote_ident(self._catalog)} "
                  "(read_only)")
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                con.execute(attach)
                break
            except duckdb.Error as e:
                if _FILE_LOCKED not in str(e) or time.monotonic() >= deadline:
                    con.close()
                    raise _open_error(self.path, e, wait) from e
                time.sleep(0.25)
        con.execute(f"use {_quote_ident(self._catalog)}")
        return con

    def bulk_insert(self) -> AbstractContextManager[None]:
        # An append of a row group or more (122,880 rows) in one transaction is compressed and
        # written to the file as it comes; appends committed slice by slice go to the log, and
        # a checkpoint compresses them later. A million stage rows in 10,000-row slices: 1.9-2.1
        # CPU s in one transaction against 2.6-2.9 s (inserts and checkpoints) one by one.
        return self.transaction()

    def transient_table(self, table: exp.Table) -> exp.Table | None:
        # A temporary table belongs to this connection: only statements run on it (never the
        # cursors `stream` opens) may read it.
        return exp.table_(exp.to_identifier(table.name, quoted=True), db="main", catalog="temp")

    def hold_arrow(self, table: exp.Table, data: pa.Table) -> bool:
        # A registered Arrow table is a view in this connection's temporary catalog, under
        # the name a transient table would have: statements read it in place, with nothing
        # copied or logged (a million parsed results cost a second to insert).
        if table.catalog != "temp" or table.db != "main":
            return False
        self.release_arrow(table)
        self._con.register(table.name, data)
        self._held.add(table.name)
        return True

    def release_arrow(self, table: exp.Table) -> None:
        if table.catalog == "temp" and table.name in self._held:
            self._held.discard(table.name)
            with contextlib.suppress(duckdb.Error):  # in an aborted transaction, say
                self._con.unregister(table.name)

    def snapshot_table(self, table: exp.Table) -> exp.Table:
        # An in-memory database attached to this one: unlike a temporary table, the cursors
        # `stream` opens see it, and unlike a table in the file, its rows are never logged.
        # Attached databases belong to the whole database instance, which a dbt run shares
        # between its threads: each warehouse object attaches its own, and detaches it on close.
        if self._snapshots is None:
            name = f"_batchsql_snapshots_{uuid.uuid4().hex[:12]}"
            self.execute(f"attach ':memory:' as {_quote_ident(name)}")
            self._snapshots = name
        return exp.table_(exp.to_identifier(table.name, quoted=True), db="main",
                          catalog=exp.to_identifier(self._snapshots, quoted=True))

    def scratch_table(self, name: str) -> exp.Table:
        if not self.read_only:
            return super().scratch_table(name)
        return exp.table_(exp.to_identifier(name, quoted=True), db="main", catalog="memory")

    def execute(self, statement: Statement, params: Sequence[Any] = ()) -> None:
        self._run(self._con, statement, params)

    def fetch(self, statement: Statement, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._run(self._con, statement, params).fetchall()

    def stream(self, statement: Statement, params: Sequence[Any] = (),
               batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        # A cursor is its own connection to the same database, so the caller may keep writing on
        # the main connection while this result is still being read.
        cursor = self._con.cursor()
        if self._catalog is not None:  # a cursor starts in the in-memory database
            cursor.execute(f"use {_quote_ident(self._catalog)}")
        try:
            relation = self._guard(lambda: cursor.sql(self.render(statement), params=list(params)))
            batches = iter(self._guard(lambda: relation.to_arrow_reader(batch_size)))
            # DuckDB goes on running the query as batches are read: its errors come from here.
            while (batch := self._guard(lambda: next(batches, None))) is not None:
                yield batch
        finally:
            cursor.close()

    def stream_while_writing(self, statement: exp.Query, params: Sequence[Any] = (),
                             batch_size: int = 10_000) -> Generator[pa.RecordBatch, None, None]:
        # A result being read keeps its transaction open, and DuckDB then keeps in memory the
        # query's own state (a sort of every row) and the undo buffers of every transaction
        # committed meanwhile (256 kB each at least). Under the memory cap the writes then
        # spent most of their time evicting and reloading blocks: 1M rows sent in 196 batches
        # took 35 s to submit, 10.5 s with this. So the result is written to a snapshot table
        # in one statement and read back a page at a time, in short queries.
        table = self.snapshot_table(exp.to_table(f"_batchsql_stream_{uuid.uuid4().hex[:12]}"))
        self.execute(sql.create_table_as(table, statement), params)
        if any(name.lower() == "rowid" for name in self.table_columns(table) or []):
            # A column of that name (a source's key, say) hides the row ids the pages are cut
            # by: such a result is streamed as it comes.
            self.execute(sql.drop_table(table))
            yield from self.stream(statement, params, batch_size)
            return
        try:
            # rowid counts the rows in the order they were inserted: the query's order.
            rowid = exp.column("rowid")
            total = int(self.fetch(sql.count_rows(table))[0][0])
            for start in range(0, total, STREAM_PAGE_ROWS):
                page = (exp.select("*").from_(table)
                        .where(rowid >= start, rowid < start + STREAM_PAGE_ROWS)
                        .order_by(rowid))
                yield from self.stream(page, (), batch_size)
        finally:
            # After an error, in an aborted transaction say, the error to report is the first;
            # the private database the table is in goes when the connection closes anyway.
            with contextlib.suppress(WarehouseError):
                self.execute(sql.drop_table(table))

    def describe(self, statement: Statement) -> list[tuple[str, str]]:
        relation = self._guard(lambda: self._con.sql(self.render(statement)))
        pairs = zip(relation.columns, relation.types, strict=True)
        return [(name, str(kind)) for name, kind in pairs]

    def insert_arrow(self, table: exp.Table, data: pa.Table | pa.RecordBatch) -> int:
        if data.num_rows == 0:
            return 0
        view = f"_batchsql_in_{uuid.uuid4().hex}"
        columns = [exp.to_identifier(name, quoted=True) for name in data.schema.names]
        insert = exp.insert(
            exp.select(*columns).from_(exp.to_identifier(view, quoted=True)),
            exp.Schema(this=table, expressions=columns),
        )
        # A reader, not the data: DuckDB keeps what is registered alive until the transaction
        # ends, and an exhausted reader holds nothing (a million rows rendered in one
        # transaction kept 480 MB of slices alive when the slices were registered).
        batches = iter(data.to_batches() if isinstance(data, pa.Table) else [data])
        self._con.register(view, pa.RecordBatchReader.from_batches(data.schema, batches))
        try:
            self.execute(insert)
        finally:
            # In a transaction DuckDB has aborted, unregistering fails too; the insert's own
            # error is the one to report.
            with contextlib.suppress(duckdb.Error):
                self._con.unregister(view)
        return data.num_rows

    def table_columns(self, table: exp.Table) -> list[str] | None:
        query = (
            "select column_name from information_schema.columns "
            "where table_name = ? and table_schema = coalesce(?, current_schema()) "
            "and table_catalog = coalesce(?, current_database()) order by ordinal_position"
        )
        rows = self.fetch(query, [table.name, table.db or None, table.catalog or None])
        return [r[0] for r in rows] or None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._con.begin()
        try:
            yield
        except BaseException:
            self._con.rollback()
            raise
        self._con.commit()

    def close(self) -> None:
        if self._snapshots is not None:
            with contextlib.suppress(duckdb.Error):  # closing must not fail on this
                self._con.execute(f"detach {_quote_ident(self._snapshots)}")
            self._snapshots = None
        if self._owned:
            self._con.close()

    def _run(self, con: duckdb.DuckDBPyConnection, statement: Statement,
             params: Sequence[Any]) -> duckdb.DuckDBPyConnection:
        sql = self.render(statement)
        return self._guard(lambda: con.execute(sql, list(params)))

    def _guard(self, call: Any) -> Any:
        try:
            return call()
        except duckdb.OutOfMemoryException as e:
            raise WarehouseError(self._out_of_memory(e)) from e
        except duckdb.Error as e:
            raise WarehouseError(str(e).strip()) from e

    def _out_of_memory(self, error: duckdb.Error) -> str:
        """DuckDB's out-of-memory error, with the fix that applies to batchsql (DuckDB's own
        suggestions are SET statements, which a batchsql user does not write)."""
        first = str(error).strip().splitlines()[0]
        if not self._owned:
            return (f"{first}: raise DuckDB's memory_limit on the connection batchsql was given "
                    "(dbt-duckdb: the target's settings in profiles.yml)")
        limit = self.config["memory_limit"]
        if self._profile_limit:
            return (f"{first}: DuckDB reached the memory_limit of {limit} that the target's "
                    "settings in profiles.yml give it; raise it there")
        return (f"{first}: DuckDB reached batchsql's default memory_limit of {limit}, which "
                "keeps a run's memory flat; give it more in the target's settings in "
                "profiles.yml, e.g. settings: {memory_limit: 1GB}")
