"""Spark through a SparkSession in this process: dbt-spark's ``method: session`` targets.

The session is the process's own (a notebook's or a Spark job's), or a new one as dbt-spark
builds it (Hive support, ``server_side_parameters`` as Spark conf); a new one keeps its tables
and metastore in the project folder. Statements are rendered in sqlglot's Spark dialect, values
are bound as Spark SQL parameter markers, and Arrow data enters through ``createDataFrame``.

Spark has no transactions, and plain file tables (parquet, Spark's default without Delta) refuse
DELETE and UPDATE. For those tables this module executes them itself: it writes the table's new
contents to a fresh folder, points the table at it (one metastore update, so a crash leaves the
old or the new version, never half of one), then removes the old folder. Tables whose format
supports row-level changes (Delta, as on Databricks; Iceberg) run them natively.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from batchsql import sql
from batchsql.errors import ProfileError, WarehouseError
from batchsql.profiles import Target
from batchsql.warehouses.base import Statement, Warehouse, require

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Table formats Spark writes as plain files: no DELETE or UPDATE, so batchsql rewrites them.
_FILE_FORMATS = frozenset({"parquet", "orc", "json", "csv", "avro", "text"})
#: Statements that change the warehouse (a read-only connection allows them on scratch only).
_WRITES = (exp.Insert, exp.Create, exp.Drop, exp.Delete, exp.Update, exp.Alter)
#: Parameter names batchsql gives the markers of a statement, and the suffix of table folders.
_MARK = "_batchsql_p"
_VERSION = re.compile(r"__batchsql_[0-9a-f]{12}$")
#: One writer per process: a rewrite reads a table and replaces it, so an insert into the same
#: table from another thread in between would be lost.
_WRITING = threading.RLock()
_T = exp.DataType.Type
#: How sqlglot may read batchsql's "timestamp" for Spark, whose TIMESTAMP has a time zone.
_ZONED = (_T.TIMESTAMP, _T.TIMESTAMPTZ, _T.TIMESTAMPLTZ)


class SparkWarehouse(Warehouse):
    """A SparkSession (the process's active one, or a new one); one instance per run."""

    dialect = "spark"

    def __init__(self, session: SparkSession, *, schema: str | None = None,
                 read_only: bool = False) -> None:
        self.session = session
        self.read_only = read_only
        self._scratch: tuple[str, str] | None = None  # (database, its folder)
        catalog = session.catalog
        self._previous_db = catalog.currentDatabase()
        if schema:
            if not read_only:
                self.execute(exp.Create(this=exp.table_(_ident(schema)), kind="SCHEMA",
                                        exists=True))
            if catalog.databaseExists(schema):
                catalog.setCurrentDatabase(schema)

    @classmethod
    def from_target(cls, target: Target, *, base_dir: Path | None, open_wait: float,
                    read_only: bool) -> SparkWarehouse:
        """dbt-spark's ``method: session`` with its ``schema`` and ``server_side_parameters``."""
        method = target.fields.get("method")
        if method != "session":
            raise ProfileError(
                f"target '{target.name}' has type 'spark' with method {method!r}; batchsql "
                "runs Spark in its own process only: method: session")
        conf = target.fields.get("server_side_parameters") or {}
        if not isinstance(conf, dict):
            raise ProfileError(f"target '{target.name}': server_side_parameters must be a "
                               "mapping of Spark settings")
        session = _session({str(k): _conf_value(v) for k, v in conf.items()}, base_dir)
        return cls(session, schema=target.fields.get("schema"), read_only=read_only)

    # -- the Warehouse interface ------------------------------------------------------------

    def render(self, statement: Statement) -> str:
        return super().render(_spark_tree(statement))

    def execute(self, statement: Statement, params: Sequence[Any] = ()) -> None:
        tree, args = self._bind(statement, params)
        self._refuse_writes(tree)
        with _WRITING:
            info = self._rewritten(tree)
            if info is not None:
                self._rewrite(tree, args, info)
            else:
                self._sql(tree, args)

    def fetch(self, statement: Statement, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        frame = self._sql(*self._bind(statement, params))
        return [tuple(_plain(v) for v in row) for row in _guard(frame.collect)]

    def stream(self, statement: Statement, params: Sequence[Any] = (),
               batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        from pyspark.sql.pandas.types import to_arrow_schema

        frame = self._sql(*self._bind(statement, params))
        schema = to_arrow_schema(frame.schema)
        # A snapshot first (spilled to disk when large): the caller writes to the tables this
        # query reads while it consumes the result, as it may on the other warehouses.
        snapshot = _guard(lambda: frame.localCheckpoint(eager=True))
        rows = _guard(snapshot.toLocalIterator)  # one partition at a time: memory stays bounded
        while chunk := _guard(lambda: list(itertools.islice(rows, batch_size))):
            columns = zip(*chunk, strict=True)
            yield pa.RecordBatch.from_arrays(
                [_arrow(values, f.type) for values, f in zip(columns, schema, strict=True)],
                schema=schema)

    def describe(self, statement: Statement) -> list[tuple[str, str]]:
        frame = self._sql(*self._bind(statement, ()))
        return [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]

    def insert_arrow(self, table: exp.Table, data: pa.Table | pa.RecordBatch) -> int:
        from pyspark.sql.pandas.types import from_arrow_schema

        if data.num_rows == 0:
            return 0
        data = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
        # Naive Arrow timestamps are UTC wall times: TIMESTAMP_NTZ, not shifted by a time zone.
        schema = from_arrow_schema(data.schema, prefer_timestamp_ntz=True)
        frame = _guard(lambda: self.session.createDataFrame(data, schema=schema))
        view = f"_batchsql_in_{uuid.uuid4().hex}"
        frame.createOrReplaceTempView(view)
        columns = [exp.to_identifier(name, quoted=True) for name in data.schema.names]
        try:
            self.execute(exp.insert(exp.select(*columns).from_(exp.to_identifier(view)),
                                    exp.Schema(this=table, expressions=columns)))
        finally:
            self.session.catalog.dropTempView(view)
        return data.num_rows

    def table_columns(self, table: exp.Table) -> list[str] | None:
        name = self.render(table)
        if not _guard(lambda: self.session.catalog.tableExists(name)):
            return None
        return list(_guard(lambda: self.session.table(name).columns))

    def transaction(self) -> AbstractContextManager[None]:
        """Spark has no transactions: statements take effect one by one.

        The runner does not rely on them for correctness: collecting deletes a batch's earlier
        outcome rows before inserting, and a request map is written before its intent row.
        """
        return nullcontext()

    def scratch_table(self, name: str) -> exp.Table:
        if not self.read_only:
            return super().scratch_table(name)
        if self._scratch is None:
            # A database of this connection's own, in a temporary folder: a dry run stages its
            # rows there and drops it on close; the warehouse's tables are never written.
            folder = tempfile.mkdtemp(prefix="batchsql-plan-")
            database = f"_batchsql_scratch_{uuid.uuid4().hex[:12]}"
            create = exp.Create(this=exp.table_(_ident(database)), kind="SCHEMA",
                                properties=exp.Properties(expressions=[
                                    exp.LocationProperty(this=sql.param())]))
            self._sql(*self._bind(create, [Path(folder).as_uri()]))
            self._scratch = (database, folder)
        return exp.table_(_ident(name), db=_ident(self._scratch[0]))

    def close(self) -> None:
        """Drop the scratch database and restore the session's database; the session stays up.

        The session belongs to the process (a notebook, a Spark job, or the next batchsql
        command in it), as in dbt-spark.
        """
        if self._scratch is not None:
            database, folder = self._scratch
            self._scratch = None
            self._sql(exp.Drop(tables=[exp.table_(_ident(database))], kind="SCHEMA",
                               exists=True, cascade=True), None)
            shutil.rmtree(folder, ignore_errors=True)
        if self.session.catalog.databaseExists(self._previous_db):
            self.session.catalog.setCurrentDatabase(self._previous_db)

    # -- statements and parameters --------------------------------------------------------

    def _bind(self, statement: Statement,
              params: Sequence[Any]) -> tuple[Statement, list[Any] | dict[str, Any] | None]:
        """The statement with named parameter markers, and their values.

        Named markers let a rewritten DELETE or UPDATE use a value more than once. A naive
        datetime (batchsql stores naive UTC) is bound as text cast to TIMESTAMP_NTZ: bound as
        it is, pyspark would read it in the local time zone.
        """
        values = list(params)
        if isinstance(statement, str):
            return statement, values or None
        tree = _spark_tree(statement).copy()
        markers = list(tree.find_all(exp.Placeholder))
        if len(markers) != len(values):
            raise WarehouseError(f"the statement has {len(markers)} parameter markers but "
                                 f"{len(values)} values were given")
        for i, marker in enumerate(markers):
            marker.set("this", f"{_MARK}{i}")
        # Values are given in the order the markers appear in the SQL text.
        order = [int(i) for i in re.findall(rf":{_MARK}(\d+)", tree.sql(dialect=self.dialect))]
        args: dict[str, Any] = {}
        for i, value in zip(order, values, strict=True):
            if isinstance(value, dt.datetime):
                if value.tzinfo is not None:
                    value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
                markers[i].replace(exp.Cast(this=markers[i].copy(),
                                            to=exp.DataType.build(_T.TIMESTAMPNTZ)))
                value = value.isoformat(sep=" ")
            args[f"{_MARK}{i}"] = value
        return tree, args or None

    def _sql(self, tree: Statement, args: list[Any] | dict[str, Any] | None) -> DataFrame:
        text = tree if isinstance(tree, str) else tree.sql(dialect=self.dialect)
        return _guard(lambda: self.session.sql(text, args=args))

    def _refuse_writes(self, tree: Statement) -> None:
        if not self.read_only or not isinstance(tree, _WRITES):
            return
        scratch = self._scratch[0] if self._scratch else None
        for target in tree.args.get("tables") or [tree.this]:
            table = target.this if isinstance(target, exp.Schema) else target
            if not (isinstance(table, exp.Table) and scratch and table.db == scratch):
                raise WarehouseError(f"read-only connection: refusing to change "
                                     f"{self.render(table)}")

    # -- DELETE and UPDATE on file tables ---------------------------------------------------

    def _rewritten(self, tree: Statement) -> dict[str, str] | None:
        """The table's details when batchsql must execute this DELETE or UPDATE itself."""
        if not isinstance(tree, exp.Delete | exp.Update):
            return None
        info = self._table_info(_bare(tree.this))
        provider = info.get("Provider", "").lower()
        if provider == "hive":
            raise WarehouseError(
                f"{self.render(_bare(tree.this))} is a Hive SerDe table, which Spark can neither "
                "delete from nor update; batchsql creates its tables with Spark's default data "
                "source (set spark.sql.legacy.createHiveTableByDefault to false)")
        if "# Partition Information" in info:
            raise WarehouseError(f"{self.render(_bare(tree.this))} is partitioned; batchsql "
                                 "can only rewrite unpartitioned file tables")
        return info if provider in _FILE_FORMATS else None

    def _rewrite(self, statement: exp.Delete | exp.Update, args: dict[str, Any] | None,
                 info: dict[str, str]) -> None:
        """Execute a DELETE or UPDATE by writing the table's new contents and switching to them.

        A DELETE that matches no row (collect's usual case) writes nothing.
        """
        table = statement.this  # with its alias, which the condition may use
        name = self.render(_bare(table))
        where = statement.args.get("where")
        hit = exp.Coalesce(this=where.this.copy() if where else exp.true(),
                           expressions=[exp.false()])
        if isinstance(statement, exp.Delete):
            probe = exp.select(exp.Literal.number(1)).from_(table.copy()).where(hit.copy())
            if not _guard(self._sql(probe.limit(1), args).take, 1):
                return
        fields = _guard(lambda: self.session.table(name).schema.fields)
        changes = {eq.this.name.lower(): eq.expression for eq in statement.expressions}
        unknown = set(changes) - {f.name.lower() for f in fields}
        if unknown:
            raise WarehouseError(f"{name} has no column {sorted(unknown)[0]!r}")
        columns: list[exp.Expression] = []
        for i, f in enumerate(fields):
            value: exp.Expression = sql.col(f.name)
            if f.name.lower() in changes:
                value = exp.Case(ifs=[exp.If(this=hit.copy(),
                                             true=changes[f.name.lower()].copy())],
                                 default=value)
            columns.append(value.as_(f"_c{i}"))
        query = exp.select(*columns).from_(table.copy())
        if isinstance(statement, exp.Delete):
            query = query.where(exp.Not(this=hit))
        from pyspark.sql import functions as F

        frame = self._sql(query, args)
        # Positional aliases, then the table's own names and types: a changed value keeps its
        # column's type, and no column name is ever parsed.
        frame = frame.select([F.col(f"_c{i}").cast(f.dataType).alias(f.name)
                              for i, f in enumerate(fields)])
        old = info["Location"]
        new = f"{_VERSION.sub('', old)}__batchsql_{uuid.uuid4().hex[:12]}"
        _guard(lambda: frame.write.format(info["Provider"].lower()).save(new))
        alter = exp.Alter(this=_bare(table), kind="TABLE",
                          actions=[exp.AlterSet(location=sql.param())])
        self._sql(*self._bind(alter, [new]))
        self._remove(old)

    def _table_info(self, table: exp.Table) -> dict[str, str]:
        """The detail rows of DESCRIBE TABLE EXTENDED (Provider, Location, Type, ...)."""
        describe = f"DESCRIBE TABLE EXTENDED {self.render(table)}"
        rows = _guard(self.session.sql(describe).collect)
        return {str(r[0]): str(r[1] or "") for r in rows}

    def _remove(self, location: str) -> None:
        """Delete a folder through Spark's own file system layer (local, HDFS, object stores)."""
        jvm = self.session.sparkContext._jvm
        path = jvm.org.apache.hadoop.fs.Path(location)
        conf = self.session.sparkContext._jsc.hadoopConfiguration()
        _guard(lambda: path.getFileSystem(conf).delete(path, True))


def _session(conf: dict[str, str], base_dir: Path | None) -> SparkSession:
    """The process's session, or a new one as dbt-spark makes it, with the target's conf."""
    pyspark = require("pyspark", "spark")
    builder = require("pyspark.sql", "spark").SparkSession.builder
    new = pyspark.SparkContext._active_spark_context is None
    if new:
        # A new session keeps its tables and metastore in the project folder (dbt-spark's are
        # in the folder dbt runs in), so the next run, or dbt itself, finds them again.
        home = (base_dir or Path.cwd()).resolve()
        conf.setdefault("spark.sql.warehouse.dir", str(home / "spark-warehouse"))
        conf.setdefault("spark.driver.extraJavaOptions", f"-Dderby.system.home={home}")
        builder = builder.enableHiveSupport()
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = _guard(builder.getOrCreate)
    if new:  # Spark's warnings (e.g. the run's one-partition window) are not the user's concern
        session.sparkContext.setLogLevel("ERROR")
    return session


def _spark_tree(statement: Statement) -> Statement:
    """Adjust batchsql's DDL for Spark: no table constraints, naive timestamps.

    Spark's file tables take no PRIMARY KEY (the lock's read-back keeps runs apart without one),
    and its TIMESTAMP is zoned: batchsql's naive UTC times are TIMESTAMP_NTZ.
    """
    if not isinstance(statement, exp.Create | exp.Alter):
        return statement
    tree = statement.copy()
    for key in list(tree.find_all(exp.PrimaryKey)):
        key.pop()
    for kind in tree.find_all(exp.DataType):
        if kind.this in _ZONED:
            kind.set("this", _T.TIMESTAMPNTZ)
    return tree


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _conf_value(value: Any) -> str:
    """A profile value as Spark conf text (YAML's true is Spark's "true")."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _plain(value: Any) -> Any:
    """A collected value with structs as dicts (as the other warehouses return them)."""
    from pyspark.sql import Row

    if isinstance(value, Row):
        return {k: _plain(v) for k, v in value.asDict().items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _arrow(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    """One column of collected rows as Arrow.

    Spark hands zoned timestamps to Python as naive local times; Arrow's zoned type needs the
    instant, so they are made aware first.
    """
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        values = [v.astimezone(dt.timezone.utc) if v is not None else None for v in values]
    return pa.array(values, kind)


def _guard(call: Any, *args: Any) -> Any:
    """Run a Spark call; Spark's and py4j's errors become WarehouseError."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        return call(*args)
    except (PySparkException, Py4JError) as e:
        raise WarehouseError(str(e).strip()) from e


def _bare(table: exp.Table) -> exp.Table:
    """The table without its alias (DESCRIBE and ALTER take none)."""
    bare = table.copy()
    bare.set("alias", None)
    return bare
