"""Batches answered on several processes (``parallel.py``) give byte for byte what one gives."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from batchsql.emulator import EmulatorServer, Faults, cli
from tests.test_emulator import chat_line, client_for, jsonl, raw, submit


def _lines(n: int, tag: str) -> list[Any]:
    return [chat_line(f"{tag}-{i}", f"Question {i} of {tag}: is it blue? (ticket {i})",
                      max_tokens=50) for i in range(n)]


def _scenario(state: Path) -> None:
    """Eight batches in ``state``, none answered yet: faults, an invalid file, a cancel."""
    slow = {"processing_seconds": 100}
    with EmulatorServer(state, faults=Faults(**slow), processes=1) as srv:
        client = client_for(srv)
        submit(client, _lines(40, "plain"))
        srv.set_faults(fail_rate=0.3, malformed_match="ticket 4)", duplicate_match="ticket 5)",
                       extra_lines=2, **slow)
        submit(client, _lines(30, "faulty"))
        srv.set_faults(**slow)
        submit(client, [*_lines(5, "bad"), "{not json", *_lines(3, "bad")])
        srv.set_faults(expire_after_lines=7, **slow)
        submit(client, _lines(20, "expiring"))
        srv.set_faults(fail_match="ticket 2)", fail_times=1, **slow)
        submit(client, _lines(12, "flaky-a"))
        submit(client, _lines(12, "flaky-b"))
        srv.set_faults(token_limit=10, **slow)
        submit(client, _lines(10, "over-quota"))
        srv.set_faults(shuffle=False, wrong_answer_match="ticket 3)", wrong_answer="no", **slow)
        cancelled = submit(client, _lines(25, "cancelled")).id
        srv.advance_clock(40)  # validated, part of the lines answered
        client.batches.cancel(cancelled)


def _outcome(srv: EmulatorServer, advance: float = 10_000) -> dict[str, Any]:
    """Every batch record after a catch-up (the stats read), its files' bytes for their ids."""
    srv.advance_clock(advance)
    status, _ = raw(srv, "GET", "/_emulator/stats")
    assert status == 200
    out = {}
    for rec in srv.store.list_batches():
        result = dict(rec.get("result") or {"output_file_id": None, "error_file_id": None})
        for key in ("output_file_id", "error_file_id"):
            fid = result.pop(key)
            kind = key.removesuffix("_file_id")
            result[kind] = None if fid is None else srv.store.file_path(fid).read_bytes()
        out[rec["id"]] = {**rec, "result": result}
    return out


def _children() -> set[Any]:
    """This process's live child processes (the pool's workers among them)."""
    return set(multiprocessing.active_children())


def test_several_processes_write_what_one_writes(tmp_path: Path) -> None:
    before = _children()
    _scenario(tmp_path / "state")
    shutil.copytree(tmp_path / "state", tmp_path / "serial")
    shutil.copytree(tmp_path / "state", tmp_path / "parallel")
    with EmulatorServer(tmp_path / "serial", processes=1) as one:
        serial = _outcome(one)
        assert _children() == before
    with EmulatorServer(tmp_path / "parallel", processes=2, pool_min_bytes=0) as two:
        parallel = _outcome(two)
        assert 1 <= len(_children() - before) <= 2  # the pool did the work
    assert _children() == before  # and ended with the server
    assert parallel == serial
    statuses = sorted(r["result"]["output"] is not None for r in serial.values())
    assert statuses.count(True) >= 5  # the scenario answered lines, not only failed
    kinds = {r["result"]["output"] is None and r["result"]["error"] is None
             for r in serial.values()}
    assert kinds == {True, False}  # the invalid and the over-quota batches have no files
    assert list((tmp_path / "parallel" / "tmp").iterdir()) == []


def test_a_dead_worker_leaves_the_work_to_the_server(tmp_path: Path) -> None:
    with EmulatorServer(tmp_path / "state", faults=Faults(processing_seconds=100),
                        processes=1) as srv:
        submit(client_for(srv), _lines(200, "big"))
    shutil.copytree(tmp_path / "state", tmp_path / "serial")
    with EmulatorServer(tmp_path / "serial", processes=1) as one:
        serial = _outcome(one)
    with EmulatorServer(tmp_path / "state", processes=2, pool_min_bytes=0) as two:
        two.advance_clock(10_000)
        rec = two.store.list_batches()[0]
        before = _children()
        assert two.api.refresher.start(rec, two.now())
        for worker in _children() - before:
            worker.kill()  # still starting its interpreter: the work is not done
        assert _outcome(two, advance=0) == serial
        assert two.api.refresher.processes == 1  # no new pool after a death
    assert list((tmp_path / "state" / "tmp").iterdir()) == []


def _answers(output: bytes) -> dict[str, Any]:
    """custom_id -> (content, usage) of an output file (its ids depend on the batch's)."""
    lines = [json.loads(line) for line in output.splitlines()]
    return {x["custom_id"]: (x["response"]["body"]["choices"][0]["message"]["content"],
                             x["response"]["body"]["usage"]) for x in lines}


def test_a_large_batch_upload_starts_the_workers_before_its_batch(tmp_path: Path) -> None:
    """Uploading a batch input of pool_min_bytes starts the pool (not another purpose's file,
    nor a smaller one); the batch then made of it is answered there as by the server."""
    lines = _lines(60, "warm")
    size = len(jsonl(lines))
    with EmulatorServer(tmp_path / "serial", faults=Faults(), processes=1) as one:
        client = client_for(one)
        expected = _answers(client.files.content(
            client.batches.retrieve(submit(client, lines).id).output_file_id or "").content)
    before = _children()
    with EmulatorServer(tmp_path / "state", faults=Faults(), processes=2,
                        pool_min_bytes=size) as two:
        client = client_for(two)
        client.files.create(file=("small.jsonl", jsonl(lines[1:])), purpose="batch")
        client.files.create(file=("other.jsonl", jsonl(lines)), purpose="fine-tune")
        assert _children() == before and two.api.refresher._pool is None
        f = client.files.create(file=("input.jsonl", jsonl(lines)), purpose="batch")
        assert two.api.refresher._pool is not None
        assert len(_children() - before) == 2  # started, though no batch exists yet
        batch = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions",
                                      completion_window="24h")
        done = client.batches.retrieve(batch.id)
        assert done.status == "completed" and done.output_file_id is not None
        assert _answers(client.files.content(done.output_file_id).content) == expected
        assert two.api.refresher.processes == 2  # the warm-up tasks broke nothing
    assert _children() == before


def test_a_worker_dying_while_warming_leaves_the_work_to_the_server(tmp_path: Path) -> None:
    with EmulatorServer(tmp_path / "state", faults=Faults(), processes=2,
                        pool_min_bytes=0) as srv:
        before = _children()
        srv.api.refresher.warm()
        for worker in _children() - before:
            worker.kill()
        client = client_for(srv)
        done = client.batches.retrieve(submit(client, _lines(20, "after")).id)
        assert done.status == "completed" and done.request_counts.completed == 20
        deadline = time.monotonic() + 30  # the pool's own thread reports the death
        while srv.api.refresher.processes != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.api.refresher.processes == 1 and srv.api.refresher._pool is None


def test_small_batches_stay_in_the_server(tmp_path: Path) -> None:
    before = _children()
    with EmulatorServer(tmp_path / "state", faults=Faults(), processes=2) as srv:
        client = client_for(srv)
        ids = [submit(client, _lines(5, f"b{n}")).id for n in range(3)]
        assert all(client.batches.retrieve(i).status == "completed" for i in ids)
        assert _children() == before  # below pool_min_bytes: no pool


def test_processes_option_reaches_the_server(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    class Stop(Exception):
        pass

    class Recorder:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            seen.update(kwargs)

        def start(self) -> None:
            raise Stop

    monkeypatch.setattr(cli, "EmulatorServer", Recorder)
    state = str(tmp_path / "state")
    result = CliRunner().invoke(cli.emulator, ["serve", "--state-dir", state, "--processes", "3"])
    assert isinstance(result.exception, Stop) and seen["processes"] == 3
    CliRunner().invoke(cli.emulator, ["serve", "--state-dir", state])
    assert seen["processes"] is None  # the server's default: one per core
    refused = CliRunner().invoke(cli.emulator, ["serve", "--state-dir", state,
                                                "--processes", "0"])
    assert refused.exit_code == 2 and "--processes" in refused.output


def test_processes_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        EmulatorServer(tmp_path / "state", processes=0)
