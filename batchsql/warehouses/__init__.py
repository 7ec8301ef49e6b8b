"""Warehouse construction from a dbt-format target.

Each profile type maps to a module and class; drivers other than DuckDB's are optional extras,
imported only when a target of their type is opened, and a missing one names its install command.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from batchsql.errors import ProfileError
from batchsql.profiles import Target
from batchsql.warehouses.base import Warehouse

__all__ = ["KINDS", "Warehouse", "connect"]

#: dbt profile type -> (module, class) of its warehouse.
KINDS: dict[str, tuple[str, str]] = {
    "duckdb": ("batchsql.warehouses.duckdb", "DuckDBWarehouse"),
    "postgres": ("batchsql.warehouses.postgres", "PostgresWarehouse"),
    "snowflake": ("batchsql.warehouses.snowflake", "SnowflakeWarehouse"),
    "bigquery": ("batchsql.warehouses.bigquery", "BigQueryWarehouse"),
    "databricks": ("batchsql.warehouses.databricks", "DatabricksWarehouse"),
    "spark": ("batchsql.warehouses.spark", "SparkWarehouse"),
}


def connect(target: Target, *, base_dir: Path | None = None, open_wait: float = 0.0,
            read_only: bool = False) -> Warehouse:
    """Open the warehouse a target describes (waiting ``open_wait`` s for a busy file).

    ``read_only``: nothing in the warehouse can be changed (``batchsql plan``).
    """
    if target.type not in KINDS:
        raise ProfileError(
            f"target '{target.name}' has type '{target.type}'; batchsql supports warehouses of "
            f"type {', '.join(repr(k) for k in KINDS)}")
    module, name = KINDS[target.type]
    cls: type[Warehouse] = getattr(importlib.import_module(module), name)
    return cls.from_target(target, base_dir=base_dir, open_wait=open_wait, read_only=read_only)
