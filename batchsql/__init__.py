"""batchsql: run large AI jobs over warehouse tables at batch prices, from SQL and YAML."""

from __future__ import annotations

__version__ = "0.1.0"
