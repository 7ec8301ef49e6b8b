"""``python -m batchsql.emulator serve ...``: the same CLI as ``batchsql emulator``."""

from __future__ import annotations

from .cli import emulator

if __name__ == "__main__":
    emulator(prog_name="python -m batchsql.emulator")
