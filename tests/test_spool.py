"""The chunk writer's bulk path makes exactly the decisions of its row-at-a-time path."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from batchsql import plan
from batchsql.spool import ChunkWriter

URL = plan.CHAT_COMPLETIONS


class RowAtATime(ChunkWriter):
    """The reference: every row through the one-row path."""

    def _plain_run(self, rows: Any, i: int) -> int:
        return i


def slices(seed: int, n: int, size: int) -> tuple[list[pa.RecordBatch], pa.Table]:
    """Rows to send (one per fingerprint), and the rows that share their requests."""
    rnd = random.Random(seed)
    rows: list[dict[str, Any]] = []
    key = 0
    while len(rows) < n:
        copies = rnd.choice([1, 1, 1, 1, 2, 3])
        if rnd.random() < 0.05:
            body, error = None, f"template error: {rnd.randrange(3)}"
            fp = plan.fingerprint(URL, error)
        else:
            text = "é" * rnd.randrange(0, 5) + "x" * rnd.randrange(10, 400)
            body, error = json.dumps({"model": "m", "text": text}), None
            fp = plan.fingerprint(URL, body)
        tokens = rnd.randrange(5, 150)
        for _ in range(copies):
            key += 1
            rows.append({"id": key, "_input": "", "_fingerprint": fp, "_body": body,
                         "_est_tokens": tokens, "_error": error,
                         "_attempt": rnd.choice([1, 1, 2]), "_copies": copies})
    seen: set[str] = set()
    first = [r["_fingerprint"] not in seen and not seen.add(r["_fingerprint"]) for r in rows]
    send = pa.Table.from_pylist([r for r, f in zip(rows, first, strict=True) if f])
    shared = pa.Table.from_pylist([{k: r[k] for k in ("id", "_fingerprint", "_attempt", "_error")}
                                   for r, f in zip(rows, first, strict=True) if not f])
    return send.to_batches(max_chunksize=size), shared


def run(cls: type[ChunkWriter], data: tuple[list[pa.RecordBatch], pa.Table], folder: Path,
        monkeypatch: pytest.MonkeyPatch, **options: Any) -> dict[str, Any]:
    batches, shared = data
    if options.pop("dedup", True):
        options["shared"] = shared
    else:  # every row sends its own request
        batches = [*batches, *shared_as_rows(batches, shared)]
    counter = itertools.count()
    monkeypatch.setattr(plan, "new_batch_uuid", lambda: f"b{next(counter):04d}")
    chunks: list[tuple[str, bytes, list[dict[str, Any]], int, int]] = []
    not_sent: list[dict[str, Any]] = []


    def on_chunk(uuid: str, path: Path | None, requests: pa.Table, size: int,
                 tokens: int) -> None:
        data = path.read_bytes() if path is not None else b""
        assert path is None or len(data) == size
        mapped = sorted(requests.drop_columns(["_created_at"]).to_pylist(),
                        key=lambda r: r["id"])
        chunks.append((uuid, data, mapped, size, tokens))

    writer = cls(options.pop("limits"), folder, URL, ["id"], on_chunk=on_chunk,
                 on_not_sent=lambda rows: not_sent.extend(
                     {k: r[k] for k in ("id", "_error", "_attempt")} for r in rows.to_pylist()),
                 **options)
    for batch in batches:
        writer.add(batch)
    writer.finish()
    figures = {name: getattr(writer, name) for name in (
        "deferred", "over_budget", "shared", "shared_tokens", "requests", "tokens_sent")}
    figures["est_cost"] = round(writer.est_cost, 9)
    return {"chunks": chunks, "not_sent": sorted(not_sent, key=lambda r: r["id"]),
            "figures": figures}


CASES = {
    "plain": {"limits": plan.Limits(50_000, 200 * 2**20)},
    "small chunks": {"limits": plan.Limits(7, 200 * 2**20)},
    "byte limit": {"limits": plan.Limits(1000, 3_000)},
    "token quota": {"limits": plan.Limits(25, 10**9, max_tokens=120), "token_budget": 2_000},
    "budget": {"limits": plan.Limits(40, 10**9), "cost_of": lambda t: 1e-6 * (t + 30),
               "cost_budget": 0.01},
    "no dedup": {"limits": plan.Limits(13, 10**9), "dedup": False},
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_and_row_paths_agree(case: str, seed: int, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    data = slices(seed, 600, size=rnd_size(seed))
    in_runs = []
    bulk_run = ChunkWriter._write_run
    monkeypatch.setattr(ChunkWriter, "_write_run", lambda self, rows, i, end: (
        in_runs.append(end - i), bulk_run(self, rows, i, end))[1])
    bulk = run(ChunkWriter, data, tmp_path / "bulk", monkeypatch, **dict(CASES[case]))
    rows = run(RowAtATime, data, tmp_path / "rows", monkeypatch, **dict(CASES[case]))
    assert bulk == rows
    assert bulk["figures"]["requests"] > 0
    if case != "no dedup":
        assert bulk["figures"]["shared"] > 0
    if case == "plain" and seed == 3:  # big slices of ordinary rows: nearly all in bulk
        assert sum(in_runs) > 0.9 * bulk["figures"]["requests"]


def shared_as_rows(batches: list[pa.RecordBatch], shared: pa.Table) -> list[pa.RecordBatch]:
    """The shared rows as rows of their own, with their request's body and tokens."""
    full = {r["_fingerprint"]: r for b in batches for r in b.to_pylist()}
    rows = [{**full[r["_fingerprint"]], **r} for r in shared.to_pylist()]
    return pa.Table.from_pylist(rows, schema=batches[0].schema).to_batches()


def rnd_size(seed: int) -> int:
    return [1, 37, 1000][seed - 1]


def test_bulk_lines_are_the_encoded_requests(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    batches, shared = slices(9, 300, size=100)
    out = run(ChunkWriter, (batches, shared), tmp_path, monkeypatch,
              limits=plan.Limits(1000, 10**9))
    (uuid, data, mapped, _, _), = out["chunks"]
    lines = data.splitlines(keepends=True)
    bodies = {r["id"]: r["_body"] for b in batches for r in b.to_pylist()}
    primary = [r for r in mapped if r["_primary"]]
    assert len(lines) == len(primary) == out["figures"]["requests"]
    for n, (line, row) in enumerate(zip(lines, sorted(primary, key=lambda r: int(
            r["_custom_id"].rsplit("-", 1)[1])), strict=True), start=1):
        assert line == plan.encode_line(f"{uuid}-{n}", URL, bodies[row["id"]])
