"""Run the batchsql CLI and SIGKILL it at a named step boundary (the kill-test harness).

    python -m tests.crash_cli POINT -- run models/labels.yml ...

The process is killed with SIGKILL, as the OOM killer or a lost machine would: no cleanup,
no finally blocks, no flushing. Points are patched from outside, so the shipped code has no
test hooks in it.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

from batchsql.errors import BatchsqlError
from batchsql.providers.openai import OpenAIProvider
from batchsql.state import State
from batchsql.warehouses import KINDS, Warehouse


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def after(cls: type, name: str) -> None:
    """Kill right after the method returns (the step happened, nothing after it did)."""
    original: Callable[..., Any] = getattr(cls, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        die()

    setattr(cls, name, wrapper)


def half_downloaded(self: OpenAIProvider, file_id: str) -> Iterator[bytes]:
    """Kill half-way through reading a result file (the first lines already parsed)."""
    content = self.client.files.content(file_id).read()
    yield content[: len(content) // 2]
    die()
    raise AssertionError("unreachable")


def mid_write() -> None:
    """Kill inside the collect transaction, after the outcome rows were inserted."""
    for module, name in KINDS.values():
        try:
            cls: type[Warehouse] = getattr(importlib.import_module(module), name)
        except (ImportError, BatchsqlError):  # a warehouse whose driver is not installed
            continue
        cls.execute = _dying_after_outcomes(cls.execute)  # type: ignore[method-assign]


def _dying_after_outcomes(original: Callable[..., None]) -> Callable[..., None]:
    def execute(self: Warehouse, statement: Any, params: Any = ()) -> None:
        original(self, statement, params)
        text = self.render(statement)
        if text.startswith("INSERT") and "_collect" in text:  # outcomes joined from the stage
            die()

    return execute


POINTS: dict[str, Callable[[], None]] = {
    "after_intent": lambda: after(State, "record_intent"),
    "after_upload": lambda: after(OpenAIProvider, "upload"),
    "after_create": lambda: after(OpenAIProvider, "create"),
    "while_polling": lambda: after(OpenAIProvider, "retrieve"),
    "while_downloading": lambda: setattr(OpenAIProvider, "file_chunks", half_downloaded),
    "mid_write": mid_write,
}


if __name__ == "__main__":
    point, _sep, *cli_args = sys.argv[1:]
    POINTS[point]()
    from batchsql.cli import main

    main(cli_args)
