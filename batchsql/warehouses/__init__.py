"""Warehouse construction from a dbt-format target."""

from __future__ import annotations

from pathlib import Path

from batchsql.errors import ProfileError
from batchsql.profiles import Target
from batchsql.warehouses.base import Warehouse

__all__ = ["Warehouse", "connect"]


def connect(target: Target, *, base_dir: Path | None = None, open_wait: float = 0.0,
            read_only: bool = False) -> Warehouse:
    """Open the warehouse a target describes (waiting ``open_wait`` s for a busy file).

    ``read_only``: nothing in the warehouse can be changed (``batchsql plan``).
    """
    if target.type == "duckdb":
        from batchsql.warehouses.duckdb import DuckDBWarehouse

        path = str(target.fields.get("path") or ":memory:")
        if path != ":memory:" and base_dir is not None and not Path(path).is_absolute():
            path = str(base_dir / path)
        return DuckDBWarehouse(path, open_wait=open_wait, read_only=read_only)
    raise ProfileError(
        f"target '{target.name}' has type '{target.type}'; this version of batchsql supports "
        "warehouses of type 'duckdb'")
