"""Kill tests: SIGKILL the CLI at every step boundary, run again, lose and repeat nothing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from batchsql.emulator import Faults

from .conftest import TICKETS, Project

REPO = Path(__file__).resolve().parent.parent


def cli(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=project.dir, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.parametrize("point", ["after_intent", "after_upload", "after_create",
                                   "while_polling", "while_downloading", "mid_write"])
def test_killed_at_any_step_then_resumed(project: Project, point: str) -> None:
    # Two chunks, so a crash can also fall between them.
    project.set_provider(max_requests_per_batch=5)
    project.emulator.set_faults(Faults(processing_seconds=0.5))
    args = ["run", str(project.spec), "--profiles-dir", str(project.dir)]

    killed = cli(project, "-m", "tests.crash_cli", point, "--", *args)
    assert killed.returncode == -signal.SIGKILL, killed.stderr + killed.stdout

    for _ in range(3):  # a resumed run may find batches still in flight
        again = cli(project, "-m", "batchsql", *args)
        assert again.returncode == 0, again.stderr + again.stdout
        if "nothing pending; nothing submitted" in again.stdout:
            break
    else:
        pytest.fail(f"never settled:\n{again.stdout}")

    # Exactly one provider batch per chunk, whatever was interrupted ...
    per_intent = project.emulator.batches_with_metadata("batchsql_batch")
    assert len(per_intent) == 2 and set(per_intent.values()) == {1}, per_intent
    # ... and exactly one success per source row.
    rows = dict(project.query("select ticket_id, count(*) from analytics.labels "
                              "where _status = 'succeeded' group by 1"))
    assert rows == {t[0]: 1 for t in TICKETS}
    assert project.query("select count(*) from analytics.labels") == [(len(TICKETS),)]


def test_intent_resumed_on_another_machine(project: Project) -> None:
    """Killed after the intent, resumed where the local spool file does not exist."""
    args = ["run", str(project.spec), "--profiles-dir", str(project.dir)]
    killed = cli(project, "-m", "tests.crash_cli", "after_intent", "--", *args)
    assert killed.returncode == -signal.SIGKILL
    shutil.rmtree(project.dir / ".batchsql")  # another machine: no spool

    again = cli(project, "-m", "batchsql", *args)
    assert again.returncode == 0, again.stderr + again.stdout
    # Nothing had reached the provider, so the intent is abandoned and its rows sent afresh.
    assert project.query("select status, error from analytics._batchsql_batches "
                         "where status = 'abandoned'")[0][1].startswith("interrupted before")
    assert project.emulator.stats()["batches_created"] == 1
    rows = dict(project.query("select ticket_id, count(*) from analytics.labels "
                              "where _status = 'succeeded' group by 1"))
    assert rows == {t[0]: 1 for t in TICKETS}


def test_cancel_never_creates_a_batch_for_a_leftover_intent(project: Project) -> None:
    args = ["run", str(project.spec), "--profiles-dir", str(project.dir)]
    killed = cli(project, "-m", "tests.crash_cli", "after_intent", "--", *args)
    assert killed.returncode == -signal.SIGKILL
    cancelled = cli(project, "-m", "batchsql", "cancel", str(project.spec), "--profiles-dir",
                    str(project.dir))
    assert cancelled.returncode == 0, cancelled.stderr + cancelled.stdout
    assert project.emulator.stats()["batches_created"] == 0
    assert project.query("select status, error from analytics._batchsql_batches") == [
        ("abandoned", "cancelled before it was submitted")]
