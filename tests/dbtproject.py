"""A small dbt project that installs this repo as a package and hooks batchsql specs.

Layout (in a temp folder)::

    dbt_project.yml  packages.yml (local: <this repo>)  profiles.yml (duckdb + batchsql plugin)
    ai/<spec>.yml                 batchsql specs, outside dbt's model-paths
    models/stg_tickets.sql        the tickets (a staging model over inline values)
    models/<hooked>.sql           pre-hook batchsql.run(...), reads the current results
    models/labelled_tickets.sql   downstream of models/labels.sql: every ticket, its label
    models/unlabelled_tickets.sql batchsql.pending_rows(...): tickets without an answer yet

dbt runs as a subprocess of this interpreter, as a user runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TICKETS

REPO = Path(__file__).resolve().parent.parent

SPEC = """\
name: {name}
source:
  sql: select ticket_id, subject, body from main.stg_tickets
  key: ticket_id
prompt:
  system: {system}
  user: |
    Subject: {{{{ subject }}}}
    {{{{ body }}}}
model: gpt-4o-mini
params: {{temperature: 0}}
output:
  table: analytics.{name}
  columns:
    {column}: {{type: string, enum: [{values}]}}
"""

#: Spec name -> (system prompt, answer column, its enum values).
SPECS = {
    "ticket_labels": ("You label tickets.", "label",
                      "billing, bug, feature_request, account, other"),
    "ticket_moods": ("You judge the customer's mood.", "mood", "happy, neutral, angry"),
}

HOOKED = """\
{{{{ config(materialized='table', pre_hook=[before_begin(batchsql.run('ai/{spec}.yml'))]) }}}}
-- depends_on: {{{{ ref('stg_tickets') }}}}
select ticket_id, {column}
from ({{{{ batchsql.current_results('analytics.{spec}', 'ticket_id', ['{column}']) }}}}) as r
"""

#: Tickets batchsql has not answered yet (judged by key), downstream of the hooked model.
PENDING = """\
-- depends_on: {{ ref('labels') }}
{{ batchsql.pending_rows(ref('stg_tickets'), 'analytics.ticket_labels', 'ticket_id') }}
"""

LABELLED = """\
{{ config(materialized='table') }}
select t.ticket_id, t.subject, l.label
from {{ ref('stg_tickets') }} as t
left join {{ ref('labels') }} as l using (ticket_id)
"""


def write_staging(folder: Path, tickets: list[tuple[int, str, str]]) -> None:
    """The staging model of tickets, as inline values."""
    rows = ",\n  ".join(f"({i}, {_literal(s)}, {_literal(b)})" for i, s, b in tickets)
    (folder / "models" / "stg_tickets.sql").write_text(
        f"select * from (values\n  {rows}\n) as t(ticket_id, subject, body)\n")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_project(folder: Path, base_url: str, *, hooked: dict[str, str] | None = None,
                  threads: int = 1, plugin: bool = True) -> Path:
    """Write the project; ``hooked`` maps model name -> spec name (default: labels ->
    ticket_labels). ``plugin``: declare batchsql's plugin in the profile."""
    hooked = hooked if hooked is not None else {"labels": "ticket_labels"}
    (folder / "models").mkdir(parents=True)
    (folder / "ai").mkdir()
    (folder / "dbt_project.yml").write_text(
        "name: shop\nversion: '1.0'\nconfig-version: 2\nprofile: shop\n"
        "model-paths: [models]\n")
    (folder / "packages.yml").write_text(f"packages:\n  - local: {REPO}\n")
    plugins = "      plugins:\n        - module: batchsql.dbt\n" if plugin else ""
    (folder / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev:\n"
        f"      type: duckdb\n      path: shop.duckdb\n      threads: {threads}\n{plugins}"
        "      batchsql:\n        provider: emulator\n"
        f"        base_url: {base_url}\n        poll_interval: 0.2\n")
    for name, (system, column, values) in SPECS.items():
        (folder / "ai" / f"{name}.yml").write_text(
            SPEC.format(name=name, system=system, column=column, values=values))
    write_staging(folder, TICKETS)
    for model, spec in hooked.items():
        column = SPECS[spec][1]
        (folder / "models" / f"{model}.sql").write_text(HOOKED.format(spec=spec, column=column))
    if "labels" in hooked:
        (folder / "models" / "labelled_tickets.sql").write_text(LABELLED)
        (folder / "models" / "unlabelled_tickets.sql").write_text(PENDING)
    return folder


def dbt(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``dbt ARGS`` in the project folder, with this interpreter; output without colours."""
    return run(folder, "-c", "from dbt.cli.main import cli; cli()", *args, check=check)


def run(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in the project folder, where dbt and batchsql find profiles.yml."""
    # dbt's subprocess must import this checkout's batchsql (the plugin), installed or not.
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, *args], cwd=folder, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": path, "DBT_USE_COLORS": "false",
             "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_PROFILES_DIR": str(folder),
             "COLUMNS": "200"})
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def batchsql_lines(output: str) -> list[str]:
    """The lines batchsql's hooks logged, without dbt's timestamps."""
    return [line.split("batchsql: ", 1)[1] for line in output.splitlines()
            if "batchsql: " in line]
