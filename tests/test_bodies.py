"""The body file: request bodies kept beside the run, read back by row number."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from batchsql.bodies import BodyFile
from batchsql.errors import BatchsqlError


def texts(rng: random.Random, n: int) -> list[str | None]:
    """Bodies of varied sizes (some far apart in the file), non-ASCII text and NULLs."""
    out: list[str | None] = []
    for i in range(n):
        if rng.random() < 0.05:
            out.append(None)
        else:
            size = rng.choice([0, 5, 300, 1400, 100_000])
            out.append(f"{i}:" + "é😊x"[rng.randrange(3)] * size)
    return out


def test_bodies_come_back_in_any_order(tmp_path: Path) -> None:
    rng = random.Random(3)
    written: list[str | None] = []
    with BodyFile(tmp_path) as bodies:
        for _ in range(30):
            values = pa.array(texts(rng, rng.randrange(0, 200)), pa.string())
            if len(values) > 2 and rng.random() < 0.5:
                values = values.slice(1, len(values) - 2)  # an offset into shared buffers
            chunked = rng.random() < 0.3 and len(values) > 1
            given = pa.chunked_array([values.slice(0, 1), values.slice(1)]) if chunked else values
            seqs = bodies.append(given).to_pylist()
            assert [s is None for s in seqs] == [v is None for v in values.to_pylist()]
            written += values.to_pylist()
        assert bodies.rows == len(written)
        present = [i for i, v in enumerate(written) if v is not None]
        for picked in (present, sorted(rng.sample(present, 50)), rng.sample(present, 50),
                       present[::-1], [present[0]] * 3, []):
            got = bodies.read(np.array(picked, np.int64))
            assert got.type == pa.string()
            assert got.to_pylist() == [written[i] for i in picked]
        with pytest.raises(IndexError):
            bodies.read(np.array([len(written)]))


def test_a_run_of_consecutive_rows_is_read_whole(tmp_path: Path) -> None:
    # A full run reads slices of consecutive rows: handed back as read, no copy; a repeated
    # row among them is not mistaken for such a run.
    with BodyFile(tmp_path) as bodies:
        bodies.append(pa.array([f"body {i}" for i in range(100)], pa.string()))
        for picked in (list(range(10, 60)), [*range(10, 30), 29, *range(31, 60)],
                       [10, 11, 11, 12]):
            got = bodies.read(np.array(picked, np.int64))
            assert got.to_pylist() == [f"body {i}" for i in picked]


def test_the_file_leaves_nothing_behind(tmp_path: Path) -> None:
    """Nothing to clean up after a crash: on POSIX the file has no name even while open."""
    bodies = BodyFile(tmp_path)
    bodies.append(pa.array(["x" * 1000] * 10))
    if os.name == "posix":
        assert list(tmp_path.iterdir()) == []
    assert bodies.read(np.array([9])).to_pylist() == ["x" * 1000]
    bodies.close()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError):  # closed: nothing left to read
        bodies.read(np.array([0]))


def stage_rows(seqs: list[int | None], spools: list[str | None],
               errors: list[str | None]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({
        "id": list(range(len(seqs))), "_fingerprint": ["f"] * len(seqs),
        "_error": pa.array(errors, pa.string()), "_spool": pa.array(spools, pa.string()),
        "_seq": pa.array(seqs, pa.int64()), "_attempt": [1] * len(seqs)})


def test_attach_puts_each_body_in_place_of_its_address(tmp_path: Path) -> None:
    with BodyFile(tmp_path) as bodies:
        seqs = bodies.append(pa.array(["a", None, "c", "d"])).to_pylist()
        batch = stage_rows([seqs[3], None, seqs[0]], ["run", "old", "run"],
                           [None, "template error: x", None])
        got = bodies.attach(batch, "run")
        assert got.schema.names == ["id", "_fingerprint", "_error", "_attempt", "_body"]
        assert got.column("_body").to_pylist() == ["d", None, "a"]
        # A row to send whose body another run rendered: a bug, refused before anything is sent.
        with pytest.raises(BatchsqlError, match="not rendered by this run"):
            bodies.attach(stage_rows([0], ["old"], [None]), "run")


def test_reads_wait_for_the_writer_and_see_every_body_appended(tmp_path: Path) -> None:
    """Appends return at once (a thread writes); a read between appends sees all of them,
    even when the caller dropped the arrays it appended."""
    with BodyFile(tmp_path) as bodies:
        expected: list[str] = []
        for round_ in range(20):
            values = [f"{round_}-{i}-" + "b" * 20_000 for i in range(50)]
            bodies.append(pa.array(values))  # the only reference to this array
            expected += values
            picked = np.array([len(expected) - 1, 0, len(expected) // 2], np.int64)
            assert bodies.read(picked).to_pylist() == [expected[i] for i in picked]
        assert bodies.read(np.arange(len(expected))).to_pylist() == expected


def test_a_failed_write_is_reported_not_read_back_as_garbage(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def disk_full(fd: int, data: memoryview, offset: int) -> int:
        calls.append(offset)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return real(fd, data, offset)

    real = os.pwrite
    monkeypatch.setattr("batchsql.appender.os.pwrite", disk_full)
    bodies = BodyFile(tmp_path)
    bodies.append(pa.array(["first"]))
    bodies.append(pa.array(["second"]))
    with pytest.raises(BatchsqlError, match="No space left on device") as failed:
        bodies.read(np.array([0]))
    assert str(tmp_path) in str(failed.value)
    with pytest.raises(BatchsqlError):  # and every later append too
        bodies.append(pa.array(["third"]))
    bodies.close()
    assert list(tmp_path.iterdir()) == []


def test_bodies_are_kept_compressed(tmp_path: Path) -> None:
    """Most of a body repeats from row to row (prompt, schema): the file is a fraction of
    the bodies' size, and they come back byte for byte."""
    schema = '{"type":"json_schema","json_schema":{"name":"out","strict":true}}' * 12
    values = [f'{{"messages":[{{"content":"ticket {i}: é {i * 7919}"}}],{schema}}}'
              for i in range(20_000)]
    with BodyFile(tmp_path) as bodies:
        for start in range(0, len(values), 5_000):
            bodies.append(pa.array(values[start:start + 5_000]))
        got = bodies.read(np.arange(len(values)))
        assert got.to_pylist() == values
        stored = os.fstat(bodies._file.fileno()).st_size
    assert stored * 10 < sum(len(v.encode()) for v in values)


def test_slices_with_no_bytes_read_back_as_empty_or_null(tmp_path: Path) -> None:
    with BodyFile(tmp_path) as bodies:
        seqs = [*bodies.append(pa.array(["a"])).to_pylist(),
                *bodies.append(pa.array([None, None], pa.string())).to_pylist(),
                *bodies.append(pa.array(["", ""])).to_pylist(),
                *bodies.append(pa.array(["b", ""])).to_pylist()]
        assert seqs == [0, None, None, 3, 4, 5, 6]
        assert bodies.read(np.array([6, 3, 0, 5, 4])).to_pylist() == ["", "", "a", "b", ""]
