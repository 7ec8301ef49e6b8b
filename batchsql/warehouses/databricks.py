"""Databricks SQL through the official connector (``pip install 'batchsql[databricks]'``).

Why databricks-sql-connector: it is what dbt-databricks uses (same host / http_path / token or
OAuth fields), it fetches results as Arrow, and it binds native parameters (``?``, Databricks
Runtime 14.2 or later). Databricks offers no Arrow bulk load without a Unity Catalog volume, so
rows are written by multi-row INSERTs of bound parameters, at most 255 per statement (the
server's limit); nested values travel as JSON text read by ``from_json``.

Each statement is its own transaction (Delta commits per statement). batchsql's writes are
ordered to be safe without more: a batch's outcomes are deleted before they are inserted and the
batch is marked collected last, so an interrupted collection is simply repeated.

Not verified against a live Databricks here; the SQL it issues is covered by golden tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from batchsql import sql
from batchsql.errors import ProfileError, WarehouseError
from batchsql.profiles import Target
from batchsql.warehouses.base import Statement, Warehouse, require
from batchsql.warehouses.shared import (
    ConnectArgs,
    as_table,
    bind_nulls,
    field,
    flatten_nested,
    scrub,
    sql_type,
)

#: The server's limits on one statement's native parameters.
MAX_PARAMS = 255
MAX_PARAM_BYTES = 1_000_000
_SECRET = ("access_token", "client_secret")


def connect_args(target: Target) -> ConnectArgs:
    """``databricks.sql.connect`` arguments from a dbt-databricks target (its field names)."""
    host = str(field(target, "host", required=True)).strip()
    host = host.removeprefix("https://").removeprefix("http://").rstrip("/")
    auth = str(field(target, "auth_type", default="token")).strip().lower()
    token = field(target, "token")
    secret = field(target, "client_secret")
    if auth == "oauth":
        # With a client secret: a service principal (M2M); without: the browser flow (U2M).
        auth_type = None if secret else "databricks-oauth"
    elif token:
        auth_type = None
    else:
        raise ProfileError(f"target '{target.name}' of type databricks needs 'token' (a personal "
                           "access token), or 'auth_type: oauth' with 'client_id' (and "
                           "'client_secret' for a service principal)")
    session = {"TIMEZONE": "UTC"}  # batchsql's naive timestamps are UTC
    session.update({str(k): str(v) for k, v in
                    (field(target, "session_properties", default={}) or {}).items()})
    values = {
        "server_hostname": host,
        "http_path": field(target, "http_path", required=True),
        "access_token": token if auth != "oauth" else None,
        "auth_type": auth_type,
        "client_id": field(target, "client_id") if auth == "oauth" else None,
        "client_secret": secret if auth == "oauth" else None,
        "catalog": field(target, "catalog", "database"),
        "schema": field(target, "schema", required=True),
        "session_configuration": session,
        "user_agent_entry": "batchsql",
    }
    return ConnectArgs(values, secret=_SECRET)


def _service_principal(args: ConnectArgs) -> Any:
    """A credentials provider for OAuth machine-to-machine (needs databricks-sdk)."""
    core = require("databricks.sdk.core", "databricks")
    config = core.Config(host=f"https://{args['server_hostname']}",
                         client_id=args["client_id"], client_secret=args["client_secret"])
    return lambda: core.oauth_service_principal(config)


def rows_per_insert(columns: int, row_bytes: int) -> int:
    """How many rows of ``columns`` parameters one INSERT may carry under the server's limits."""
    by_count = MAX_PARAMS // max(columns, 1)
    by_size = MAX_PARAM_BYTES // max(row_bytes, 1)
    return max(1, min(by_count, by_size))


class DatabricksWarehouse(Warehouse):
    """One connection to a Databricks SQL warehouse or cluster."""

    dialect = "databricks"

    def __init__(self, connection: Any, args: ConnectArgs) -> None:
        self._con = connection
        self._args = args

    @classmethod
    def from_target(cls, target: Target, *, base_dir: Path | None, open_wait: float,
                    read_only: bool) -> DatabricksWarehouse:
        """dbt-databricks' fields (``host``, ``http_path``, ``token``, ``catalog``, ...)."""
        args = connect_args(target)
        dbsql = require("databricks.sql", "databricks")
        options = {k: v for k, v in args.items() if k not in ("client_id", "client_secret")}
        if args.get("client_secret"):
            options["credentials_provider"] = _service_principal(args)
        try:
            connection = dbsql.connect(**options)
        except Exception as e:
            raise WarehouseError(f"cannot connect to Databricks at {args['server_hostname']}: "
                                 f"{scrub(str(e), args.secrets())}") from None
        return cls(connection, args)

    def __repr__(self) -> str:
        return f"DatabricksWarehouse(host={self._args['server_hostname']!r})"

    def _run(self, statement: Statement, params: Sequence[Any]) -> Any:
        if isinstance(statement, exp.Expression):
            statement, params = bind_nulls(statement, params)
        cursor = self._con.cursor()
        try:
            cursor.execute(self.render(statement), list(params) if params else None)
        except Exception as e:
            cursor.close()
            raise WarehouseError(scrub(str(e).strip(), self._args.secrets())) from None
        return cursor

    def execute(self, statement: Statement, params: Sequence[Any] = ()) -> None:
        self._run(statement, params).close()

    def fetch(self, statement: Statement, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._run(statement, params)
        try:
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def stream(self, statement: Statement, params: Sequence[Any] = (),
               batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        cursor = self._run(statement, params)
        try:
            while True:
                part = cursor.fetchmany_arrow(batch_size)
                if part.num_rows == 0:
                    return
                yield from part.to_batches()
        finally:
            cursor.close()

    def describe(self, statement: Statement) -> list[tuple[str, str]]:
        query = statement if isinstance(statement, exp.Query) else exp.maybe_parse(
            statement, dialect=self.dialect)
        cursor = self._run(sql.no_rows(query), ())
        try:
            schema = cursor.fetchall_arrow().schema
        finally:
            cursor.close()
        return [(f.name, sql_type(f.type).sql(dialect=self.dialect)) for f in schema]

    def table_columns(self, table: exp.Table) -> list[str] | None:
        """From the connector's metadata call, which Unity Catalog and the Hive metastore both
        answer (information_schema exists only in Unity Catalog)."""
        catalog = table.catalog or self._args.get("catalog")
        schema = table.db or self._args["schema"]
        cursor = self._con.cursor()
        try:
            cursor.columns(catalog_name=catalog, schema_name=schema, table_name=table.name)
            rows = cursor.fetchall()
        except Exception as e:
            raise WarehouseError(scrub(str(e).strip(), self._args.secrets())) from None
        finally:
            cursor.close()
        # The names are LIKE patterns ('_' matches any character), and Databricks stores table
        # and schema names in lower case: keep exact matches only.
        names = [r.COLUMN_NAME for r in sorted(rows, key=lambda r: r.ORDINAL_POSITION)
                 if r.TABLE_NAME.lower() == table.name.lower()
                 and r.TABLE_SCHEM.lower() == schema.lower()]
        return names or None

    def insert_arrow(self, table: exp.Table, data: pa.Table | pa.RecordBatch) -> int:
        if data.num_rows == 0:
            return 0
        original = as_table(data)
        flat, nested = flatten_nested(original)
        parse = {name: sql_type(original.schema.field(name).type) for name in nested}
        names = flat.schema.names
        rows = [tuple(r.values()) for r in flat.to_pylist()]
        widest = max(len(json.dumps(r, default=str)) for r in rows)
        step = rows_per_insert(len(names), widest)
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            statement = sql.insert_rows(table, names, len(chunk), parse)
            self.execute(statement, [value for row in chunk for value in row])
        return data.num_rows

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield  # see the module docstring: each statement commits on its own

    def close(self) -> None:
        self._con.close()
