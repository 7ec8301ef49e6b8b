"""The CLI as a user runs it: a subprocess in a copy of the example project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def batchsql(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batchsql", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "200", **env}, timeout=300)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A fresh copy of the repo's example project (spec, seed data, profiles)."""
    for name in ("models", "seeds"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "profiles.yml", tmp_path / "profiles.yml")
    return tmp_path


def test_example_project_run_and_rerun(example: Path) -> None:
    assert (example / "seeds" / "tickets.csv").stat().st_size > 100_000
    first = batchsql(example, "run", "models/ticket_labels.yml", BATCHSQL_EMULATOR_SECONDS="0")
    assert first.returncode == 0, first.stderr + first.stdout
    out = first.stdout
    assert "rows pending" in out and "succeeded" in out
    assert "at batch price (realtime would be $" in out
    assert (example / "batchsql.duckdb").exists()

    second = batchsql(example, "run", "models/ticket_labels.yml")
    assert second.returncode == 0, second.stderr
    assert "nothing pending; nothing submitted" in second.stdout

    status = batchsql(example, "status", "models/ticket_labels.yml")
    assert status.returncode == 0, status.stderr
    assert "succeeded" in status.stdout and "no batches in flight" in status.stdout


def test_validate_reports_file_line_and_exit_code(example: Path) -> None:
    ok = batchsql(example, "validate", "models/ticket_labels.yml")
    assert ok.returncode == 0, ok.stderr + ok.stdout
    assert "ok" in ok.stdout
    bad = example / "models" / "bad.yml"
    bad.write_text((example / "models" / "ticket_labels.yml").read_text()
                   .replace("max_attempts: 3", "max_attempts: three"))
    result = batchsql(example, "validate", "models/bad.yml")
    assert result.returncode == 1
    assert "models/bad.yml:" in result.stdout and "max_attempts" in result.stdout


def test_errors_are_one_clear_line_without_traceback(example: Path) -> None:
    result = batchsql(example, "run", "models/ticket_labels.yml", "--target", "prdo")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "prod" in result.stderr  # did you mean


def test_plan_then_a_budgeted_run(example: Path) -> None:
    plan = batchsql(example, "plan", "models/ticket_labels.yml", "--show", "1",
                    "--max-cost", "0.01")
    assert plan.returncode == 0, plan.stderr + plan.stdout
    out = plan.stdout
    assert "pending" in out and "1,200 rows" in out and "(exact)" in out
    assert "cost, batch" in out and "cost, realtime" in out and "dedup saves" in out
    assert "rows left for a later run" in out
    assert "request for {'ticket_id': 1}" in out and '"json_schema"' in out
    assert not (example / "batchsql.duckdb").exists()  # a plan writes nothing

    run = batchsql(example, "run", "models/ticket_labels.yml", "--max-cost", "0.01",
                   BATCHSQL_EMULATOR_SECONDS="0")
    assert run.returncode == 0, run.stderr + run.stdout
    assert "budget" in run.stdout and "rows left for a later run" in run.stdout
    status = batchsql(example, "status", "models/ticket_labels.yml")
    assert "last run" in status.stdout and "spent" in status.stdout
