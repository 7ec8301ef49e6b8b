"""read_ahead: a producer thread a few items ahead, invisible to the consumer but for speed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from batchsql.ahead import read_ahead


def _alive(name: str) -> bool:
    return any(t.name == name for t in threading.enumerate())


def test_items_come_in_order_and_the_thread_ends() -> None:
    assert list(read_ahead(iter(range(1000)), depth=3, name="t-order")) == list(range(1000))
    assert not _alive("t-order")


def _counted(made: list[int]) -> Iterator[int]:
    """0..99, noting in ``made`` each item as the producer makes it."""
    for i in range(100):
        made.append(i)
        yield i


def test_the_producer_stays_at_most_depth_items_ahead() -> None:
    made: list[int] = []
    reader = read_ahead(_counted(made), depth=2, name="t-depth")
    assert next(reader) == 0
    time.sleep(0.3)
    # Item 0 was taken, two wait in the queue and one more is made, blocked on the queue.
    assert len(made) <= 4
    reader.close()
    assert not _alive("t-depth")


def test_a_producer_error_is_raised_where_its_item_would_come() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise OSError("disk gone")

    reader = read_ahead(items(), name="t-error")
    assert next(reader) == 1
    with pytest.raises(OSError, match="disk gone"):
        next(reader)
    assert not _alive("t-error")


def test_leaving_early_closes_the_producers_own_generator() -> None:
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            yield from range(10_000)
        finally:
            closed.set()

    for i in read_ahead(items(), name="t-early"):
        if i == 5:
            break
    assert closed.is_set() and not _alive("t-early")


def test_items_made_ahead_wait_while_those_queued_weigh_more_than_the_budget() -> None:
    made: list[int] = []
    # Each item weighs 10; a budget of 25 lets two wait, however deep the queue.
    reader = read_ahead(_counted(made), depth=50, name="t-budget", weight=lambda i: 10, budget=25)
    assert next(reader) == 0
    time.sleep(0.3)
    assert len(made) <= 4  # 0 taken, two queued, one made and held back
    assert list(reader) == list(range(1, 100))
    assert not _alive("t-budget")
    # An item heavier than the budget still goes through when nothing else waits.
    assert list(read_ahead(iter([5, 500, 5]), depth=4, weight=lambda i: i, budget=10)) == \
        [5, 500, 5]
