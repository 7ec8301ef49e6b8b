"""The small interface batchsql needs from a warehouse.

Statements arrive as sqlglot trees and are rendered in the warehouse's dialect here, at the edge;
data values travel as bound parameters or Arrow, never inside SQL text.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from batchsql.errors import WarehouseError

if TYPE_CHECKING:
    from batchsql.profiles import Target

Statement = exp.Expression | str


def require(module: str, extra: str) -> Any:
    """Import a warehouse driver, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise WarehouseError(
            f"this warehouse needs the Python package '{module}': "
            f"pip install 'batchsql[{extra}]'") from e


class Warehouse(ABC):
    """A connection to one warehouse; one instance per run."""

    #: sqlglot dialect name used to render every statement.
    dialect: str = ""
    #: Whether ``stream`` reads on a connection of its own, so that another thread may run
    #: statements on this one while a stream is read (the render's inserts do).
    streams_apart: bool = False

    @classmethod
    @abstractmethod
    def from_target(cls, target: Target, *, base_dir: Path | None, open_wait: float,
                    read_only: bool) -> Warehouse:
        """Connect as a dbt-format target says (its dbt field names, as dbt reads them).

        ``base_dir`` resolves relative paths; ``open_wait`` is how long to wait for a busy
        database; ``read_only`` promises that nothing will be written (``batchsql plan``).
        """

    def render(self, statement: Statement) -> str:
        """SQL text of a statement in this warehouse's dialect."""
        if isinstance(statement, str):
            return statement
        return statement.sql(dialect=self.dialect)

    @abstractmethod
    def execute(self, statement: Statement, params: Sequence[Any] = ()) -> None:
        """Run a statement that returns nothing of interest."""

    @abstractmethod
    def fetch(self, statement: Statement, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query with a small result and return its rows."""

    @abstractmethod
    def stream(self, statement: Statement, params: Sequence[Any] = (),
               batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        """Run a query and yield its result as Arrow record batches, never all at once."""

    def stream_while_writing(self, statement: exp.Query, params: Sequence[Any] = (),
                             batch_size: int = 10_000) -> Generator[pa.RecordBatch, None, None]:
        """``stream``, for a reader that commits many writes of its own before it is done.
        Close it if it is not read to the end (it may hold a table of its own till then)."""
        yield from self.stream(statement, params, batch_size)

    @abstractmethod
    def describe(self, statement: Statement) -> list[tuple[str, str]]:
        """(column name, type in this dialect) of a query's result, without running it."""

    @abstractmethod
    def insert_arrow(self, table: exp.Table, data: pa.Table | pa.RecordBatch) -> int:
        """Bulk-append Arrow data to an existing table, columns matched by name."""

    @abstractmethod
    def table_columns(self, table: exp.Table) -> list[str] | None:
        """Column names of a table, or None when it does not exist."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Context in which statements commit together or not at all."""

    def bulk_insert(self) -> AbstractContextManager[None]:
        """Context for many ``insert_arrow`` calls that together fill one table.

        A storage hint, not a promise of atomicity: where it pays, the inserts share one
        transaction (DuckDB then writes them as compressed row groups straight to the file, not
        through its log and a later checkpoint), so anything else written inside commits, or is
        rolled back, with them.
        """
        return nullcontext()

    def transient_table(self, table: exp.Table) -> exp.Table | None:
        """A session-private temporary table for one that lives for one step of a run (a
        batch's parsed results), or None where temporary tables are not worth it.

        Temporary tables skip the log and the disk: DuckDB writes a table's rows twice
        otherwise (log, then checkpoint), which for a million parsed results is seconds.
        """
        return None

    def hold_arrow(self, table: exp.Table, data: pa.Table) -> bool:
        """Let statements read ``data`` as ``table`` (a name ``transient_table`` gave) without
        copying it into the warehouse, until ``release_arrow``; False where the warehouse
        cannot, and the caller creates and fills the table instead."""
        return False

    def release_arrow(self, table: exp.Table) -> None:
        """Stop reading ``table`` from what ``hold_arrow`` gave (nothing if it holds none)."""
        return None

    def snapshot_table(self, table: exp.Table) -> exp.Table | None:
        """A session-private table that holds a query's result for several later reads,
        ``stream`` included (one submit pass's pending rows), or None where computing the query
        again costs less than writing its result down."""
        return None

    def scratch_table(self, name: str) -> exp.Table:
        """A table the caller may create, fill and drop for its own bookkeeping.

        A read-only connection puts it where writing is allowed (outside the warehouse).
        """
        return exp.table_(exp.to_identifier(name, quoted=True))

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
