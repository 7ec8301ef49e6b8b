"""dbt-postgres target fields -> libpq connection keywords (pure: no driver needed).

An existing dbt ``profiles.yml`` works as is: the same field names, aliases and defaults as
dbt-postgres (``pass`` for ``password``, ``database`` for ``dbname``, ``search_path`` passed as
a server option, ``keepalives_idle: 0`` meaning the system default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from batchsql.errors import ProfileError

#: dbt-postgres field -> libpq keyword, for the fields that are plain connection settings.
_KEYWORDS = {
    "host": "host", "port": "port", "user": "user", "password": "password", "pass": "password",
    "dbname": "dbname", "database": "dbname", "sslmode": "sslmode", "sslcert": "sslcert",
    "sslkey": "sslkey", "sslrootcert": "sslrootcert", "connect_timeout": "connect_timeout",
    "keepalives_idle": "keepalives_idle", "application_name": "application_name",
}
_REQUIRED = ("host", "user", "dbname")
_INTEGERS = ("port", "connect_timeout", "keepalives_idle")


def connect_args(fields: Mapping[str, Any], *, read_only: bool = False) -> dict[str, Any]:
    """libpq keywords for a dbt-postgres target's fields.

    ``schema`` (where dbt builds models), ``threads``, ``retries`` and ``role`` are not
    connection keywords: batchsql qualifies tables as the spec writes them, and the role is
    set after connecting (``role_of``). ``read_only`` makes every transaction read-only.
    """
    args: dict[str, Any] = {"port": 5432, "connect_timeout": 10, "application_name": "batchsql"}
    for name, value in fields.items():
        keyword = _KEYWORDS.get(name)
        if keyword is not None and value is not None and value != "":
            args[keyword] = value
    missing = [k for k in _REQUIRED if not args.get(k)]
    if missing:
        raise ProfileError(f"a postgres target needs {', '.join(repr(m) for m in missing)} "
                           "(as in dbt-postgres; 'database' may stand for 'dbname')")
    for keyword in _INTEGERS:
        try:
            args[keyword] = int(args[keyword]) if keyword in args else None
        except (TypeError, ValueError):
            raise ProfileError(f"postgres target field {keyword!r} must be a whole number, "
                               f"got {args[keyword]!r}") from None
    if not args.get("keepalives_idle"):  # dbt: 0 leaves the system default
        args.pop("keepalives_idle", None)
    options = []
    if fields.get("search_path"):
        # libpq splits options on spaces; dbt escapes them the same way.
        options.append("-c search_path=" + str(fields["search_path"]).replace(" ", "\\ "))
    if read_only:
        options.append("-c default_transaction_read_only=on")
    if options:
        args["options"] = " ".join(options)
    return args


def role_of(fields: Mapping[str, Any]) -> str | None:
    """The role to ``SET ROLE`` to after connecting, as dbt-postgres does."""
    role = fields.get("role")
    return str(role) if role else None


def place(args: Mapping[str, Any]) -> str:
    """``user@host:port/dbname``: names a connection without its secret."""
    return f"{args.get('user')}@{args.get('host')}:{args.get('port')}/{args.get('dbname')}"
