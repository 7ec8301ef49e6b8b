"""PostgreSQL, through psycopg 3.

Why psycopg rather than ADBC's PostgreSQL driver (whose ingest and Arrow fetch are native):

- it takes ``%s`` placeholders, exactly what sqlglot renders ``exp.Placeholder`` as, and binds
  Python values with types the server infers from their place (ADBC wants ``$1`` and types a
  parameter that is NULL as Arrow ``null``, which the driver refuses);
- a server-side cursor ``WITH HOLD`` streams a result in slices on the *same* connection while
  that connection keeps writing: a second connection would not see the session's TEMP tables
  (the scratch tables of a read-only plan) nor its uncommitted rows;
- binary COPY takes per-column types we choose, so Arrow structs and lists of structs go into
  JSONB as JSON text and Arrow lists into native arrays; ADBC ingest has no JSONB mapping;
- the connection is plain libpq, so every dbt-postgres field has a direct keyword.

Arrow record batches are built from each fetched slice with types taken from the result's
column OIDs, so an all-NULL slice keeps its type.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from batchsql.errors import WarehouseError
from batchsql.profiles import Target
from batchsql.warehouses.base import Statement, Warehouse, require
from batchsql.warehouses.postgres_profile import connect_args, place, role_of

psycopg = require("psycopg", "postgres")
from psycopg import sql as pgsql  # noqa: E402  (after the check that names the extra)
from psycopg.types.string import TextLoader  # noqa: E402

from batchsql.warehouses import postgres_values as values  # noqa: E402

#: Stands for a bound parameter while the rest of a statement's text has its ``%`` doubled.
_PARAM = "__batchsql_param__"


class PostgresWarehouse(Warehouse):
    """One PostgreSQL database, one autocommit connection; ``transaction()`` groups writes."""

    dialect = "postgres"

    def __init__(self, args: dict[str, Any], *, role: str | None = None,
                 read_only: bool = False) -> None:
        self.read_only = read_only
        self._place = place(args)
        self._secret = str(args.get("password") or "")
        try:
            self._con = psycopg.connect(**args, autocommit=True)
        except psycopg.Error as e:
            raise WarehouseError(self._scrub(
                f"cannot connect to PostgreSQL {self._place}: {e}".strip())) from None
        # JSON comes back as its text, as from DuckDB; Arrow has no type for "any JSON".
        for name in ("json", "jsonb"):
            self._con.adapters.register_loader(name, TextLoader)
        try:
            if role:
                self.execute(pgsql.SQL("set role {}").format(pgsql.Identifier(role))
                             .as_string(self._con))
            # 63 bytes unless the server was built otherwise.
            self._max_name = int(self.fetch("show max_identifier_length")[0][0])
        except WarehouseError:
            self._con.close()
            raise

    @classmethod
    def from_target(cls, target: Target, *, base_dir: Path | None, open_wait: float,
                    read_only: bool) -> PostgresWarehouse:
        """dbt-postgres fields; ``open_wait`` does not apply (no file to wait for)."""
        return cls(connect_args(target.fields, read_only=read_only),
                   role=role_of(target.fields), read_only=read_only)

    def __repr__(self) -> str:
        return f"PostgresWarehouse({self._place}, read_only={self.read_only})"

    # -- statements ------------------------------------------------------------------------

    def execute(self, statement: Statement, params: Sequence[Any] = ()) -> None:
        target = _ddl_target(statement)
        if target is not None:
            self._check_name(target)
        try:
            self._execute(statement, params, scratch=target is not None and
                          target.db == "pg_temp")
        except WarehouseError:
            # CREATE ... IF NOT EXISTS may fail for what exists: PostgreSQL checks the right to
            # create a schema before whether it exists (a user who may only use the schema is
            # refused), and a session that created it at the same moment makes ours fail.
            if_missing = isinstance(statement, exp.Create) and statement.args.get("exists")
            idle = self._con.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            if if_missing and idle and target is not None and self._exists(statement, target):
                return
            raise

    def _execute(self, statement: Statement, params: Sequence[Any], *, scratch: bool) -> None:
        query, args = self._sql(statement, params)
        if self.read_only and scratch:
            # A read-only session refuses CREATE even of TEMP tables; its scratch tables live in
            # pg_temp (gone with the session), so only their DDL runs read-write.
            with self._guard(), self._con.transaction():
                self._con.execute("set transaction read write")
                self._con.execute(query, args)
            return
        with self._guard():
            self._con.execute(query, args)

    def _exists(self, create: exp.Create, target: exp.Table) -> bool:
        """Whether the schema, table or view a CREATE ... IF NOT EXISTS names exists."""
        if str(create.args.get("kind")).upper() == "SCHEMA":
            return bool(self.fetch("select to_regnamespace(%s) is not null",
                                   [self.render(exp.to_identifier(target.name, quoted=True))]
                                   )[0][0])
        return self._column_types(target) is not None

    def fetch(self, statement: Statement, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        query, args = self._sql(statement, params)
        with self._guard():
            return self._con.execute(query, args).fetchall()

    def stream(self, statement: Statement, params: Sequence[Any] = (),
               batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        # WITH HOLD: the result is kept by the server past commits, so the caller may write
        # (and commit) on this connection between slices; the rows are a snapshot as of now.
        query, args = self._sql(statement, params)
        cursor = self._con.cursor(f"_batchsql_{uuid.uuid4().hex}", withhold=True)
        try:
            with self._guard():
                cursor.execute(query, args)
            names = [c.name for c in cursor.description or ()]
            kinds = [values.arrow_type(c.type_code) for c in cursor.description or ()]
            while True:
                with self._guard():
                    rows = cursor.fetchmany(batch_size)
                if not rows:
                    return
                yield values.record_batch(names, kinds, rows)
        finally:
            # Not raised: it would hide whatever ended the reading (e.g. a failed transaction).
            with contextlib.suppress(psycopg.Error):
                cursor.close()

    def describe(self, statement: Statement) -> list[tuple[str, str]]:
        """Prepared, not run: the server reports the result's columns and their types."""
        query = self.render(statement)
        name = f"_batchsql_{uuid.uuid4().hex}".encode()
        pgconn = self._con.pgconn
        with self._con.lock:
            result = pgconn.prepare(name, query.encode(self._con.info.encoding))
            if not result.error_message:
                result = pgconn.describe_prepared(name)
                pgconn.exec_(b"deallocate " + name)
        if result.error_message:
            text = result.error_message.decode(errors="replace").strip()
            raise WarehouseError(self._scrub(text.removeprefix("ERROR:").strip()))
        columns = [(result.fname(i) or b"").decode() for i in range(result.nfields)]
        oids = [result.ftype(i) for i in range(result.nfields)]
        mods = [result.fmod(i) for i in range(result.nfields)]
        if not columns:
            return []
        kinds = self.fetch("select format_type(t.o, t.m) from unnest(%s::oid[], %s::int[]) "
                           "with ordinality as t(o, m, i) order by t.i", [oids, mods])
        return [(n, k[0]) for n, k in zip(columns, kinds, strict=True)]

    def insert_arrow(self, table: exp.Table, data: pa.Table | pa.RecordBatch) -> int:
        """COPY of the rows (binary where the column types allow it); Arrow structs and nested
        lists become JSON for JSONB, NUL characters U+FFFD (see ``postgres_values``)."""
        if data.num_rows == 0:
            return 0
        types = self._column_types(table)
        if types is None:
            raise WarehouseError(f"table {self.render(table)} does not exist")
        names = data.schema.names
        unknown = [n for n in names if n not in types]
        if unknown:
            raise WarehouseError(f"table {self.render(table)} has no column {unknown[0]!r}")
        targets = [types[n] for n in names]
        binary = values.binary_copy([kind for _, kind in targets])
        columns = [values.copy_values(data.column(i), kind, binary)
                   for i, (_, kind) in enumerate(targets)]
        copy = exp.Copy(this=exp.Schema(this=table.copy(), expressions=[
            exp.to_identifier(n, quoted=True) for n in names]), kind=True,
            files=[exp.var("STDIN")], params=[exp.CopyParameter(
                this=exp.var("FORMAT"), expression=exp.var("BINARY" if binary else "TEXT"))])
        with self._guard(), self._con.cursor() as cursor, \
                cursor.copy(self.render(copy)) as writer:
            if binary:
                writer.set_types([oid for oid, _ in targets])
            for row in zip(*columns, strict=True):
                writer.write_row(row)
        return data.num_rows

    def table_columns(self, table: exp.Table) -> list[str] | None:
        types = self._column_types(table)
        return list(types) if types else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._guard(), self._con.transaction():
            yield

    def transient_table(self, table: exp.Table) -> exp.Table | None:
        # pg_temp: this session's own schema; its tables skip the write-ahead log.
        return exp.table_(exp.to_identifier(table.name, quoted=True),
                          db=exp.to_identifier("pg_temp"))

    def snapshot_table(self, table: exp.Table) -> exp.Table | None:
        # `stream` reads on this session, which sees its own temporary tables.
        return self.transient_table(table)

    def scratch_table(self, name: str) -> exp.Table:
        if not self.read_only:
            return super().scratch_table(name)
        if len(name.encode()) > self._max_name:  # a private name: shortened, kept distinct
            digest = hashlib.sha256(name.encode()).hexdigest()[:10]
            name = name.encode()[:self._max_name - 11].decode(errors="ignore") + "_" + digest
        # pg_temp: this session's own schema, dropped with it; writable in a read-only session.
        return exp.table_(exp.to_identifier(name, quoted=True), db=exp.to_identifier("pg_temp"))

    def close(self) -> None:
        self._con.close()

    # -- helpers ---------------------------------------------------------------------------

    def _sql(self, statement: Statement, params: Sequence[Any]) -> tuple[str, list[Any] | None]:
        """Text and parameters for psycopg, which reads every ``%`` when given parameters
        (and refuses NUL in text: replaced as in COPY)."""
        if not params:
            return self.render(statement), None
        args = [values.without_nul(p) for p in params]
        if isinstance(statement, str):
            return statement, args
        marked = statement.transform(
            lambda node: exp.var(_PARAM) if isinstance(node, exp.Placeholder) else node)
        return self.render(marked).replace("%", "%%").replace(_PARAM, "%s"), args

    def _column_types(self, table: exp.Table) -> dict[str, tuple[int, str]] | None:
        """Column -> (type OID, type name) of a table or view, in order; None if none exists.

        ``to_regclass`` resolves names the way statements do (search_path, pg_temp).
        """
        rows = self.fetch(
            "select a.attname, a.atttypid, t.typname from pg_attribute a "
            "join pg_type t on t.oid = a.atttypid where a.attrelid = to_regclass(%s) "
            "and a.attnum > 0 and not a.attisdropped order by a.attnum", [self.render(table)])
        return {name: (oid, kind) for name, oid, kind in rows} or None

    def _check_name(self, table: exp.Table) -> None:
        """Refuse to create or drop a table whose name PostgreSQL would cut short.

        Cut at 63 bytes, ``_batchsql_<output>_stage`` and ``_batchsql_<output>_requests``
        become one table, and making the stage would drop the request map.
        """
        for part in (table.name, table.db):
            if len(part.encode()) > self._max_name:
                raise WarehouseError(
                    f"PostgreSQL cuts names to {self._max_name} bytes and {part!r} has "
                    f"{len(part.encode())}, so two of batchsql's tables could become one; "
                    "shorten output.table (batchsql adds up to 19 characters to its name)")

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as e:
            raise WarehouseError(self._scrub(str(e).strip())) from None

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def _ddl_target(statement: Statement) -> exp.Table | None:
    """The table or view a CREATE, DROP or ALTER tree acts on."""
    if not isinstance(statement, (exp.Create, exp.Drop, exp.Alter)):
        return None
    target = statement.this if not isinstance(statement, exp.Drop) else (
        statement.args.get("tables") or [statement.this])[0]
    if isinstance(target, exp.Schema):
        target = target.this
    return target if isinstance(target, exp.Table) else None
