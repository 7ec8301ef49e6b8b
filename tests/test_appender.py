"""The appender: a file written by a thread, byte for byte what plain writes would give."""

from __future__ import annotations

import os
import random
import threading
from pathlib import Path

import pytest

from batchsql.appender import Appender


def test_writes_land_in_order_whatever_their_sizes(tmp_path: Path) -> None:
    rng = random.Random(5)
    path = tmp_path / "out.bin"
    expected = bytearray()
    appender = Appender(open(path, "wb", buffering=0), limit=100_000)  # noqa: SIM115
    for i in range(400):
        data = bytes([i % 251]) * rng.choice([0, 1, 7, 5_000, 300_000])
        assert appender.write(memoryview(data) if i % 2 else data) == len(data)
        expected += data
        assert appender.size == len(expected)
        if i % 97 == 0:  # a flush mid-way, then more writes
            appender.flush()
            assert path.read_bytes() == expected
    appender.close()
    assert path.read_bytes() == expected


def test_a_file_opened_with_content_is_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"head:")
    appender = Appender(open(path, "r+b", buffering=0))  # noqa: SIM115
    appender.write(b"tail")
    appender.close()
    assert path.read_bytes() == b"head:tail"


def test_writes_wait_while_too_much_is_queued(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real = os.pwrite

    def slow(fd: int, data: memoryview, offset: int) -> int:
        release.wait()
        return real(fd, data, offset)

    monkeypatch.setattr("batchsql.appender.os.pwrite", slow)
    appender = Appender(open(tmp_path / "out.bin", "wb", buffering=0), limit=10)  # noqa: SIM115
    appender.write(b"x" * 11)  # queued: more than the limit now
    third = threading.Thread(target=lambda: appender.write(b"y"))
    third.start()
    third.join(0.3)
    assert third.is_alive()  # held back until the thread catches up
    release.set()
    third.join(5)
    assert not third.is_alive()
    appender.close()
    assert (tmp_path / "out.bin").read_bytes() == b"x" * 11 + b"y"


def test_a_write_error_reaches_the_caller(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(fd: int, data: memoryview, offset: int) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("batchsql.appender.os.pwrite", disk_full)
    handle = open(tmp_path / "out.bin", "wb", buffering=0)  # noqa: SIM115
    appender = Appender(handle)
    appender.write(b"lost")
    with pytest.raises(OSError, match="No space left"):
        appender.flush()
    with pytest.raises(OSError, match="No space left"):
        appender.write(b"more")
    with pytest.raises(OSError, match="No space left"):
        appender.close()
    assert handle.closed


def test_an_encoder_runs_on_the_thread_and_says_where_each_write_lies(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    threads = set()

    def encode(view: memoryview) -> bytes:
        threads.add(threading.current_thread().name)
        return bytes(view)[::-1] + b"|"

    appender = Appender(open(path, "wb", buffering=0), encode=encode)  # noqa: SIM115
    for data in (b"abc", b"", b"de", b"f" * 100_000):
        appender.write(data)
    assert appender.size == 3 + 2 + 100_000  # what was handed over, before encoding
    appender.close()
    content = path.read_bytes()
    assert content == b"cba|ed|" + b"f" * 100_000 + b"|"
    assert appender.extents == [(0, 4), (4, 3), (7, 100_001)]  # the empty write is no write
    assert threads == {"batchsql-appender"}
