"""The HTTP side: a ThreadingHTTPServer on loopback that the unmodified ``openai`` SDK talks to.

``EmulatorServer`` is the public handle: start/stop (or use it as a context manager), read its
``base_url``, change faults, move the clock, read stats and batches. While it runs, a worker
thread (``worker.py``) does each batch's work as soon as it falls due. The endpoints themselves
are in ``api.py``; this module only turns HTTP requests into ``api.Request`` objects and
responses back into bytes (HTTP/1.1 with keep-alive, as the SDK's connection pool expects).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import timeline
from .api import Api, Request
from .faults import Faults
from .parallel import MIN_POOL_BYTES, Refresher, default_processes
from .store import Store
from .wire import ApiError
from .worker import Worker

_CHUNK = 1024 * 1024


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: Api, verbose: bool) -> None:
        self.api, self.verbose = api, verbose
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (or a stop() dropping its connection) is normal.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "batchsql-emulator"
    timeout = 300  # an idle keep-alive connection is dropped after this many seconds
    # Headers and body go out as separate writes: with Nagle on, the body waits for the
    # client's delayed ACK, ~40 ms per request.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    # -- plumbing -------------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        started = time.monotonic()
        api = self.server.api
        try:
            body = _Body(self.rfile, self.headers)
        except ValueError:
            self.close_connection = True
            return
        url = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request(method, url.path, parse_qs(url.query), headers, read=body.read)
        extra: dict[str, str] = {}
        try:
            fault = api.http_fault(method, url.path)
            if fault is not None and not fault[1]:
                raise _injected(fault[0])
            status, payload = api.handle(req)
            if fault is not None:  # http_fail_after: the work is done, the answer is lost
                raise _injected(fault[0])
        except ApiError as e:
            status, payload, extra = e.status, e.payload(), e.headers
        except _BrokenBody:
            self.close_connection = True
            return
        except Exception as e:  # a bug in the emulator: answer like the API would, and log it
            traceback.print_exc(file=sys.stderr)
            status, payload = 500, ApiError(500, f"[batchsql emulator] internal error: {e}",
                                            type="server_error").payload()
        try:
            body.drain()  # what the handler left unread: the next request starts after it
        except _BrokenBody:
            self.close_connection = True
            return
        self._respond(status, payload, extra, started)

    def _respond(self, status: int, payload: dict[str, Any] | Path, extra: Mapping[str, str],
                 started: float) -> None:
        self.send_response(status)
        self.send_header("x-request-id", "req_" + secrets.token_hex(16))
        for key, value in extra.items():
            self.send_header(key, value)
        if isinstance(payload, Path):
            size = os.path.getsize(payload)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self._processing_ms(started)
            self.end_headers()
            # download_cut_times: half the promised bytes, then the connection closes.
            cut = status == 200 and self.server.api.download_cut()
            with open(payload, "rb") as f:
                # By the kernel: no copy through Python.
                self.connection.sendfile(f, 0, size // 2 if cut else None)
            if cut:
                self.close_connection = True
            return
        data = json.dumps(payload).encode("utf-8")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self._processing_ms(started)
        self.end_headers()
        self.wfile.write(data)

    def _processing_ms(self, started: float) -> None:
        self.send_header("openai-processing-ms", str(int((time.monotonic() - started) * 1000)))


class _BrokenBody(ConnectionError):
    """The request body ended early or its chunked encoding is wrong: drop the connection."""


class _Body:
    """A request body as a stream (Content-Length or chunked), never read past its end.

    Handlers read what they need (an upload goes to disk chunk by chunk); ``drain`` skips the
    rest so that the connection can carry the next request.
    """

    def __init__(self, rfile: Any, headers: Any) -> None:
        self.rfile = rfile
        self.chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        self.left = 0 if self.chunked else int(headers.get("Content-Length") or 0)
        if self.left < 0:
            raise ValueError("negative Content-Length")
        self.done = not self.chunked and self.left == 0

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer at a chunk's end); b"" at the end of the body."""
        try:
            return self._read(n)
        except (ValueError, OSError) as e:  # a bad chunk size, a timeout, a reset
            if isinstance(e, _BrokenBody):
                raise
            raise _BrokenBody(str(e)) from e

    def _read(self, n: int) -> bytes:
        if self.done:
            return b""
        if self.chunked and self.left == 0:
            self.left = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if self.left == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                self.done = True
                return b""
        data = self.rfile.read(min(n, self.left))
        if not data:
            raise _BrokenBody("the body ended early")
        self.left -= len(data)
        if self.left == 0:
            if self.chunked:
                self.rfile.readline()  # the CRLF after a chunk
            else:
                self.done = True
        return data

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass


def _injected(status: int) -> ApiError:
    if status == 429:
        return ApiError(429, "[batchsql emulator] Rate limit reached (injected fault).",
                        type="requests", code="rate_limit_exceeded",
                        headers={"retry-after-ms": "20"})
    if status >= 500:
        return ApiError(status, "The server had an error while processing your request. Sorry "
                        "about that! [batchsql emulator: injected fault]", type="server_error",
                        headers={"retry-after-ms": "20"})
    return ApiError(status, "[batchsql emulator] Request rejected (injected fault).")


class EmulatorServer:
    """A loopback OpenAI Files + Batches server whose state lives in ``state_dir``.

    ``faults`` given here replace the persisted ones; ``None`` keeps what the state folder has
    (so a restarted server keeps its scenario). Batches whose input has at least
    ``pool_min_bytes`` are answered on up to ``processes`` worker processes at once (default:
    one per core; 1: all in the server's threads), see ``parallel.py``. They start at the
    first upload of such an input, or with ``warm`` as the server starts.
    """

    def __init__(self, state_dir: str | os.PathLike[str], host: str = "127.0.0.1",
                 port: int = 0, faults: Faults | None = None, *, verbose: bool = False,
                 processes: int | None = None, pool_min_bytes: int = MIN_POOL_BYTES,
                 warm: bool = False) -> None:
        self.store = Store(state_dir)
        self.processes = default_processes() if processes is None else processes
        if self.processes < 1:
            raise ValueError("processes must be at least 1")
        self.pool_min_bytes = pool_min_bytes
        self.warm = warm
        self.api = Api(self.store)
        self.host, self._port, self.verbose = host, port, verbose
        if faults is not None:
            self.store.save_faults(faults)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._worker: Worker | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        """Bind and serve in a daemon thread. Returns self."""
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.host, self._port), self.api, self.verbose)
        self._port = self._httpd.server_address[1]
        self.api.refresher = Refresher(self.store, self.processes, self.pool_min_bytes)
        if self.warm:
            self.api.refresher.warm()
        self._worker = self.api.worker = Worker(self.store, self.api.refresher)
        self._worker.start()
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name=f"batchsql-emulator:{self._port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections (clients see the server go away)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        with httpd.connections_lock:
            for conn in list(httpd.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._worker is not None:
            self._worker.stop()
            self._worker = self.api.worker = None
        self.api.refresher.close()
        self.api.refresher = Refresher(self.store)  # stopped: reads work in the caller's thread

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """Root URL (the admin endpoints live under ``/_emulator``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def base_url(self) -> str:
        """What to pass as ``openai.OpenAI(base_url=...)``."""
        return self.url + "/v1"

    # -- knobs ----------------------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        return self.store.load_faults()

    def set_faults(self, faults: Faults | Mapping[str, Any] | None = None, **fields: Any) -> Faults:
        """Replace the faults (persisted). Batches created before keep the faults they had."""
        if faults is None or isinstance(faults, Mapping):
            faults = Faults.model_validate({**(faults or {}), **fields})
        elif fields:
            faults = faults.model_copy(update=fields)
        self.store.save_faults(faults)
        return faults

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator's clock forward (persisted). Returns the total offset."""
        offset = self.store.advance_clock(seconds)
        if self._worker is not None:
            self._worker.wake()
        return offset

    def now(self) -> float:
        return self.store.now()

    def stats(self) -> dict[str, Any]:
        """Counters and batches by status, e.g. ``{"files_created": 2, "batches_created": 1,
        "batches_by_status": {"completed": 1}, ...}``."""
        return self.api.stats()

    def list_batches(self) -> list[dict[str, Any]]:
        """Every stored batch as its Batch JSON at the emulator's now, oldest first."""
        now = self.store.now()
        recs = sorted(self.store.list_batches(), key=lambda r: r["seq"])
        return [timeline.batch_view(r, now) for r in self.api.refresher.refresh_all(recs, now)]

    def batches_with_metadata(self, key: str) -> dict[str, int]:
        """How many batches were created per value of metadata ``key`` (batches without that
        key are left out), e.g. ``{"chunk-1": 1, "chunk-2": 1}``; includes ended batches."""
        return dict(Counter(r["metadata"][key] for r in self.store.list_batches()
                            if key in (r.get("metadata") or {})))
