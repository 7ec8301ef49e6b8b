"""dbt-duckdb plugin: ``batchsql_run(spec[, mode])`` and ``batchsql_status(spec)`` for hooks.

Declared in a duckdb target of profiles.yml (``pip install 'batchsql[dbt]'``)::

    plugins:
      - module: batchsql.dbt
        config: {max_wait: 600}   # optional: the time limit of batchsql.run(spec, wait=true)

so that a model's ``before_begin(batchsql.run('ai/ticket_labels.yml'))`` pre-hook runs batchsql
inside the dbt process, writing through dbt's own DuckDB connection (see ``batchsql.hooks``).
The provider settings come from the same target's ``batchsql:`` mapping: dbt-duckdb drops keys
it does not know before a plugin sees them, so the file is read again, for the profile, target
and folders dbt itself resolved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.environments import Environment
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from batchsql.errors import BatchsqlError
from batchsql.hooks import DEFAULT_MAX_WAIT, HookRunner


class Plugin(BasePlugin):
    """Registers batchsql's SQL functions on every connection dbt-duckdb opens."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # dbt-duckdb merges the target's DuckDB `settings:` into every plugin's config, so only
        # the keys this plugin knows are read.
        self.hooks = HookRunner(_where, _invocation,
                                default_max_wait=_seconds(plugin_config.get("max_wait")))

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        creds = self.creds

        def cursor() -> Any:
            # A cursor as dbt-duckdb prepares its own: the target's settings, its retries.
            fresh = conn.cursor()
            return Environment.initialize_cursor(creds, fresh) if creds is not None else fresh

        self.hooks.register(conn, cursor)


def _where() -> dict[str, Any]:
    """The project folder, profiles folder, profile and target of the running dbt command."""
    from dbt.adapters.factory import get_adapter_by_type
    from dbt.flags import get_flags

    config = get_adapter_by_type("duckdb").config
    return {"project_dir": Path(config.project_root),
            "profiles_dir": getattr(get_flags(), "PROFILES_DIR", None),
            "profile": config.profile_name, "target": config.target_name}


def _invocation() -> str:
    from dbt_common.invocation import get_invocation_id

    return str(get_invocation_id())


def _seconds(value: Any) -> float:
    if value is None:
        return DEFAULT_MAX_WAIT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = 0.0
    if seconds <= 0:
        raise BatchsqlError(f"batchsql.dbt plugin: max_wait must be a positive number of "
                            f"seconds, got {value!r}")
    return seconds
