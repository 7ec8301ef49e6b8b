"""Shared fixtures: a real emulator over HTTP, real DuckDB files, a small example project."""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import openai
import pytest

from batchsql import api
from batchsql.emulator import EmulatorServer, Faults
from batchsql.runner import RunSummary

TICKETS = [
    (1, "Charged twice", "My invoice shows a double charge on the card. Please refund."),
    (2, "App crashes", "The app crashes with an error every time I export a report."),
    (3, "Dark mode please", "Feature request: it would be great to have a dark mode."),
    (4, "Password reset", "I cannot log in to my account, the password reset email never came."),
    (5, "Hello", "Just wanted to say thanks for the great support last week."),
    (6, "Refund for VAT", "The invoice VAT is wrong, I was billed the wrong amount."),
    (7, "Slow page", "The dashboard page is very slow and shows an error 502 sometimes."),
    (8, "Überweisung", "Die Rechnung wurde doppelt abgebucht – bitte erstatten. 😊"),
]

SPEC = """\
name: labels
source:
  sql: select ticket_id, subject, body from read_csv('tickets.csv')
  key: ticket_id
prompt:
  system: You label tickets.
  user: |
    Subject: {{ subject }}
    {{ body }}
model: gpt-4o-mini
params: {temperature: 0}
output:
  table: analytics.labels
  columns:
    label: {type: string, enum: [billing, bug, feature_request, account, other]}
    summary: {type: string}
max_attempts: 3
"""


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorServer]:
    with EmulatorServer(state_dir=tmp_path / "emulator", faults=Faults()) as server:
        yield server


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[EmulatorServer]:
    """An emulator with no faults, for tests that drive it with the SDK directly."""
    with EmulatorServer(tmp_path / "state") as server:
        yield server


@pytest.fixture
def client(srv: EmulatorServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0)


@dataclass
class Project:
    """A project folder with tickets, a spec and a profile pointing at the test's emulator."""

    dir: Path
    emulator: EmulatorServer

    @property
    def spec(self) -> Path:
        return self.dir / "models" / "labels.yml"

    @property
    def db(self) -> Path:
        return self.dir / "warehouse.duckdb"

    def write_spec(self, text: str) -> Path:
        self.spec.write_text(text)
        return self.spec

    def write_tickets(self, rows: list[tuple[Any, ...]]) -> None:
        with open(self.dir / "tickets.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["ticket_id", "subject", "body"])
            writer.writerows(rows)

    def set_provider(self, **settings: Any) -> None:
        """Add keys to the test target's batchsql mapping in profiles.yml."""
        lines = "".join(f"        {k}: {v}\n" for k, v in settings.items())
        profiles = self.dir / "profiles.yml"
        profiles.write_text(profiles.read_text() + lines)

    def run(self, **options: Any) -> RunSummary:
        return api.run(self.spec, project_dir=self.dir, profiles_dir=self.dir, **options)

    def query(self, text: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(text).fetchall()


@pytest.fixture
def project(tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Project:
    folder = tmp_path / "project"
    (folder / "models").mkdir(parents=True)
    (folder / "profiles.yml").write_text(textwrap.dedent(f"""\
        batchsql:
          target: test
          outputs:
            test:
              type: duckdb
              path: warehouse.duckdb
              batchsql:
                provider: emulator
                base_url: {emulator.base_url}
                poll_interval: 0.2
        """))
    # read_csv('tickets.csv') in the spec is relative to the working folder, as for a user.
    monkeypatch.chdir(folder)
    proj = Project(folder, emulator)
    proj.write_tickets(TICKETS)
    proj.write_spec(SPEC)
    return proj
