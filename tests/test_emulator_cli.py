"""``python -m batchsql.emulator serve``: a real process, its flags, and restarts keeping faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import openai
from click.testing import CliRunner

from batchsql.emulator.cli import emulator


def _serve(state: Path, *flags: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "batchsql.emulator", "serve", "--port", "0",
         "--state-dir", str(state), *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1"), (
        base_url, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
    return proc, base_url


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def _get(base_url: str, path: str) -> Any:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + path, timeout=10) as resp:
        return json.loads(resp.read())


def test_serve_with_flags_then_restart_keeps_faults(tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc, base_url = _serve(state, "--processing-seconds", "30", "--fail-rate", "0.5",
                            "--no-shuffle", "--fail-validation")
    try:
        faults = _get(base_url, "/_emulator/faults")
        assert faults["processing_seconds"] == 30 and faults["fail_rate"] == 0.5
        assert faults["shuffle"] is False and faults["fail_validation"] is True
        client = openai.OpenAI(base_url=base_url, api_key="x", max_retries=0)
        f = client.files.create(file=("in.jsonl", b'{"custom_id": "a"}\n'), purpose="batch")
        batch = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions",
                                      completion_window="24h")
        assert batch.status == "validating"
    finally:
        _stop(proc)

    proc, base_url = _serve(state)  # no fault flags: the folder's faults stay
    try:
        assert _get(base_url, "/_emulator/faults")["processing_seconds"] == 30
        client = openai.OpenAI(base_url=base_url, api_key="x", max_retries=0)
        assert client.batches.retrieve(batch.id).id == batch.id
    finally:
        _stop(proc)


def test_warm_starts_the_worker_processes_before_any_upload(tmp_path: Path) -> None:
    cold, cold_url = _serve(tmp_path / "cold", "--processes", "2")
    warm, warm_url = _serve(tmp_path / "warm", "--processes", "2", "--warm")
    try:
        deadline = time.monotonic() + 60
        while not _get(warm_url, "/_emulator/stats")["workers_ready"]:
            assert time.monotonic() < deadline, "the worker processes never came up"
            time.sleep(0.1)
        assert len(_children(warm.pid)) >= 2
        # Without --warm they wait for the first large batch input.
        assert _get(cold_url, "/_emulator/stats")["workers_ready"] is False
        assert _children(cold.pid) == []
    finally:
        _stop(cold)
        _stop(warm)


def _children(pid: int) -> list[str]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return path.read_text().split() if path.exists() else []


def test_help_lists_every_knob() -> None:
    result = CliRunner().invoke(emulator, ["serve", "--help"])
    assert result.exit_code == 0
    for flag in ("--host", "--port", "--state-dir", "--processing-seconds", "--fail-match",
                 "--fail-rate", "--fail-status", "--fail-times", "--fail-validation",
                 "--invalid-match", "--expire-after-lines", "--no-shuffle", "--token-limit",
                 "--finalizing-seconds", "--malformed-match", "--duplicate-match",
                 "--extra-lines"):
        assert flag in result.output


def test_serve_takes_the_output_and_quota_flags(tmp_path: Path) -> None:
    proc, base_url = _serve(tmp_path / "state", "--token-limit", "90000", "--extra-lines", "2",
                            "--malformed-match", "CUT", "--duplicate-match", "TWICE",
                            "--finalizing-seconds", "12.5")
    try:
        faults = _get(base_url, "/_emulator/faults")
    finally:
        _stop(proc)
    assert (faults["token_limit"], faults["extra_lines"], faults["malformed_match"],
            faults["duplicate_match"], faults["finalizing_seconds"]) == (
        90000, 2, "CUT", "TWICE", 12.5)
