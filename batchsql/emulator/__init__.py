"""A loopback OpenAI Files + Batches server for tests, demos and users' CI.

The unmodified ``openai`` SDK talks to it through ``base_url``::

    from batchsql.emulator import EmulatorServer, Faults

    with EmulatorServer(".batchsql/emulator", faults=Faults(processing_seconds=60)) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="x")
        ...
        srv.advance_clock(60)

State (files, batches, faults, clock) lives in the state folder and survives restarts. Answers
are deterministic, honour ``response_format`` JSON schemas, and always say they come from the
emulator: it never pretends to be a model.
"""

from __future__ import annotations

from .faults import Faults
from .server import EmulatorServer

__all__ = ["EmulatorServer", "Faults"]
