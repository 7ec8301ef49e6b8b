"""``batchsql emulator serve``: run the emulator in the foreground until Ctrl-C.

Fault flags describe the whole scenario: when any is given, the persisted faults are replaced by
exactly those flags (the others at their defaults); with none, the state folder keeps the faults
it had, so restarting a server does not change its scenario.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any

import click

from .faults import Faults
from .server import EmulatorServer

# (flag, Faults field, click type or None for an on/off flag, help) for every fault knob.
_KNOBS: list[tuple[str, str, Any, str]] = [
    ("--processing-seconds", "processing_seconds", click.FloatRange(0),
     "Simulated seconds from create to done."),
    ("--finalizing-seconds", "finalizing_seconds", click.FloatRange(0),
     "Extra seconds a batch stays finalizing before completed."),
    ("--fail-match", "fail_match", str, "Fail lines whose body contains this text."),
    ("--fail-rate", "fail_rate", click.FloatRange(0, 1), "Fail this fraction of lines."),
    ("--fail-status", "fail_status", click.IntRange(400, 599), "HTTP status of failed lines."),
    ("--fail-times", "fail_times", click.IntRange(0),
     "Times a request fails before it succeeds (default: always)."),
    ("--fail-validation", "fail_validation", None, "Every new batch fails validation."),
    ("--invalid-match", "invalid_match", str, "Lines containing this text fail validation."),
    ("--wrong-answer-match", "wrong_answer_match", str,
     "Requests whose body contains this text get --wrong-answer instead of a valid answer."),
    ("--wrong-answer", "wrong_answer", str,
     "The answer they get: message content (chat) or a JSON vector (embeddings)."),
    ("--expire-after-lines", "expire_after_lines", click.IntRange(0),
     "Batches expire after answering this many lines."),
    ("--no-shuffle", "no_shuffle", None, "Keep output lines in input order."),
    ("--token-limit", "token_limit", click.IntRange(0),
     "Per-model enqueued-token quota over the batches in flight."),
    ("--malformed-match", "malformed_match", str,
     "Output lines of requests whose body contains this text are cut short (not JSON)."),
    ("--duplicate-match", "duplicate_match", str,
     "Output lines of requests whose body contains this text appear twice."),
    ("--extra-lines", "extra_lines", click.IntRange(0),
     "Add N output lines with custom_ids that were never sent."),
    ("--max-requests", "max_requests", click.IntRange(1), "Most lines per input file."),
    ("--max-bytes", "max_bytes", click.IntRange(1), "Largest input file in bytes."),
    ("--http-fail-times", "http_fail_times", click.IntRange(0),
     "Fail the next N matching API requests with an HTTP error."),
    ("--http-fail-match", "http_fail_match", str,
     "Which requests fail, e.g. 'POST /v1/batches' (default: any)."),
    ("--http-fail-status", "http_fail_status", click.IntRange(400, 599),
     "Status of injected HTTP errors."),
    ("--http-fail-after", "http_fail_after", None,
     "Do the request, then answer with the injected error."),
    ("--download-cut-times", "download_cut_times", click.IntRange(0),
     "Break off the next N file downloads half-way (the connection closes)."),
]


def _knob_options(func: Any) -> Any:
    for flag, field, kind, help_text in reversed(_KNOBS):
        if kind is None:
            option = click.option(flag, field, is_flag=True, default=None, help=help_text)
        else:
            option = click.option(flag, field, type=kind, default=None, help=help_text)
        func = option(func)
    return func


@click.group(name="emulator")
def emulator() -> None:
    """A local OpenAI Files + Batches emulator (deterministic answers, fault knobs)."""


@emulator.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 = any free port).")
@click.option("--state-dir", default=".batchsql/emulator", show_default=True,
              type=click.Path(file_okay=False), help="Folder holding files, batches, clock.")
@click.option("--verbose", is_flag=True, help="Log every request.")
@click.option("--processes", type=click.IntRange(1), default=None,
              help="Worker processes answering large batches side by side "
                   "(default: one per core; 1: all in the server process).")
@click.option("--warm", is_flag=True,
              help="Start the worker processes now, not at the first large batch upload "
                   "(their start-up then lands on no client's time).")
@_knob_options
def serve(host: str, port: int, state_dir: str, verbose: bool, processes: int | None,
          warm: bool, **knobs: Any) -> None:
    """Serve until Ctrl-C; point the SDK at the printed base_url."""
    given = {k: v for k, v in knobs.items() if v is not None}
    if given.pop("no_shuffle", None):
        given["shuffle"] = False
    faults = Faults.model_validate(given) if given else None
    srv = EmulatorServer(state_dir, host=host, port=port, faults=faults, verbose=verbose,
                         processes=processes, warm=warm)
    srv.start()
    click.echo(f"batchsql emulator serving {srv.base_url} (state: {state_dir})", err=True)
    click.echo(srv.base_url)
    active = {k: v for k, v in srv.faults.model_dump().items()
              if v != Faults.model_fields[k].default}
    if active:
        click.echo(f"faults: {active}", err=True)
    stop = threading.Event()
    with contextlib.suppress(ValueError):  # only the main thread may set signal handlers
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
