"""Two runs of the same spec at once: one works, the other waits or says who holds the lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batchsql import sql
from batchsql.emulator import Faults
from batchsql.errors import LockedError
from batchsql.lock import SpecLock
from batchsql.providers import OpenAIProvider
from batchsql.runner import Runner
from batchsql.spec import load_spec

from .conftest import Project

REPO = Path(__file__).resolve().parent.parent


def start_cli(project: Project, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "batchsql", "run", str(project.spec), "--profiles-dir",
         str(project.dir), *args], cwd=project.dir, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})


def wait_for_batch(project: Project, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not project.emulator.stats()["batches_created"]:
        assert time.monotonic() < deadline, "the first run never submitted"
        time.sleep(0.05)


def test_second_process_is_refused_then_waits(project: Project) -> None:
    project.emulator.set_faults(Faults(processing_seconds=4))
    first = start_cli(project)
    wait_for_batch(project)

    refused = start_cli(project)
    out, err = refused.communicate(timeout=60)
    assert refused.returncode == 1, out + err
    # DuckDB refuses to open a file another process holds; elsewhere the spec lock refuses.
    # Either way the message names the process that holds it.
    assert f"(pid {first.pid})" in err.lower(), err
    assert "Traceback" not in err

    patient = start_cli(project, "--lock-wait", "60")
    out, err = patient.communicate(timeout=90)
    assert patient.returncode == 0, out + err
    assert "nothing pending; nothing submitted" in out
    assert first.wait(timeout=60) == 0
    assert project.emulator.stats()["batches_created"] == 1


def test_run_refused_while_another_holds_the_spec_lock(project: Project) -> None:
    # Two connections of one process (as dbt threads would have): the lock table decides.
    spec = load_spec(project.spec)
    holder_wh = project.connect()
    table = sql.sibling(sql.parse_table(spec.output.table, holder_wh.dialect), "_batchsql_locks")
    with SpecLock(holder_wh, table, spec.name, "run-holding-it"):
        wh = project.connect()
        provider = OpenAIProvider(api_key="x", base_url=project.emulator.base_url)
        runner = Runner(spec, wh, provider, work_dir=project.dir / ".batchsql")
        with pytest.raises(LockedError, match=r"run run-holding-it by .* \(pid "):
            runner.run()
        provider.close()
    assert project.emulator.stats()["files_created"] == 0
    wh.close()
    holder_wh.close()
