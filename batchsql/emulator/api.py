"""The OpenAI Files + Batches endpoints and the emulator's admin endpoints, minus HTTP.

Each handler takes the parsed request and returns ``(status, payload)`` where the payload is a
JSON-able dict or a ``Path`` to stream; errors are raised as ``ApiError``. The HTTP plumbing is
in ``server.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from . import processing, timeline, validation
from .faults import Faults
from .parallel import Refresher
from .store import Store, new_id
from .wire import ApiError, Part, bad_request, missing, not_found, read_multipart
from .worker import Worker

Payload = dict[str, Any] | Path
Response = tuple[int, Payload]

FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
BATCH_ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
                   "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos")
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
DAY = 24 * 3600


class Request:
    """What a handler needs from an HTTP request.

    The body comes as bytes, or as a ``read(n)`` stream (from the server) that ``body`` reads
    whole on first use; an upload reads the stream itself, to keep the file out of memory.
    """

    def __init__(self, method: str, path: str, query: Mapping[str, list[str]],
                 headers: Mapping[str, str], body: bytes = b"",
                 read: Callable[[int], bytes] | None = None) -> None:
        self.method, self.path, self.query = method, path, query
        self.headers = headers
        self._body = None if read is not None else body
        self.read: Callable[[int], bytes] = read if read is not None else io.BytesIO(body).read
        self.params: dict[str, str] = {}

    @property
    def body(self) -> bytes:
        if self._body is None:
            self._body = b"".join(iter(lambda: self.read(1024 * 1024), b""))
        return self._body

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            raise bad_request("We could not parse the JSON body of your request. (HINT: This "
                              "likely means you aren't using your HTTP library correctly.)",
                              code=None) from None
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.", code=None)
        return data


def _int_arg(req: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = req.arg(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Invalid '{name}': expected an integer.", param=name) from None
    if not lo <= value <= hi:
        raise bad_request(f"Invalid '{name}': must be between {lo} and {hi}.", param=name)
    return value


def _page(items: list[dict[str, Any]], after: str | None, limit: int) -> tuple[list, bool]:
    start = 0
    if after is not None:
        ids = [item["id"] for item in items]
        if after not in ids:
            raise bad_request(f"Invalid 'after': no object with id '{after}'.", param="after")
        start = ids.index(after) + 1
    page = items[start:start + limit]
    return page, start + limit < len(items)


def _list(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None, "has_more": has_more}


class Api:
    """All endpoints over one state folder."""

    def __init__(self, store: Store, refresher: Refresher | None = None) -> None:
        self.store = store
        self.refresher = refresher or Refresher(store)  # one process unless told otherwise
        self.worker: Worker | None = None  # the server's, while it runs
        v1, adm = r"/v1", r"/_emulator"
        fid, bid = r"(?P<id>[^/]+)", r"(?P<id>[^/]+)"
        table: list[tuple[str, str, Callable[[Request], Response]]] = [
            ("POST", rf"{v1}/files", self.create_file),
            ("GET", rf"{v1}/files", self.list_files),
            ("GET", rf"{v1}/files/{fid}", self.get_file),
            ("DELETE", rf"{v1}/files/{fid}", self.delete_file),
            ("GET", rf"{v1}/files/{fid}/content", self.file_content),
            ("POST", rf"{v1}/batches", self.create_batch),
            ("GET", rf"{v1}/batches", self.list_batches),
            ("GET", rf"{v1}/batches/{bid}", self.get_batch),
            ("POST", rf"{v1}/batches/{bid}/cancel", self.cancel_batch),
            ("GET", rf"{adm}/faults", self.get_faults),
            ("POST", rf"{adm}/faults", self.post_faults),
            ("GET", rf"{adm}/clock", self.get_clock),
            ("POST", rf"{adm}/clock", self.post_clock),
            ("GET", rf"{adm}/stats", self.get_stats),
        ]
        self.routes = [(m, re.compile(p + r"/?"), h) for m, p, h in table]

    # -- dispatch -------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(req.path)
            if match and method == req.method:
                req.params = match.groupdict()
                return handler(req)
        raise not_found(f"Invalid URL ({req.method} {req.path})")

    def http_fault(self, method: str, path: str) -> tuple[int, bool] | None:
        """(status, after) when this API request must get an injected HTTP error."""
        if not path.startswith("/v1/"):
            return None  # the admin endpoints never fail
        faults = self.store.load_faults()
        if faults.http_fail_times <= 0:
            return None
        if faults.http_fail_match and faults.http_fail_match not in f"{method} {path}":
            return None
        if not self.store.take("http_faults_since_set", faults.http_fail_times):
            return None
        self.store.bump("http_faults_injected")
        return faults.http_fail_status, faults.http_fail_after

    def download_cut(self) -> bool:
        """Whether this download of a file's content must break off half-way."""
        faults = self.store.load_faults()
        if faults.download_cut_times <= 0:
            return False
        if not self.store.take("download_cuts_since_set", faults.download_cut_times):
            return False
        self.store.bump("downloads_cut")
        return True

    # -- files ----------------------------------------------------------------------------------
    def create_file(self, req: Request) -> Response:
        length = req.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_UPLOAD_BYTES:
            raise _too_large()
        spooled: list[BinaryIO] = []

        def spool(part: Part) -> BinaryIO | None:
            if part.name != "file":
                return None
            spooled.append(open(self.store.tmp_path(".upload"), "wb"))  # noqa: SIM115
            return spooled[-1]

        try:
            try:
                parts = read_multipart(req.headers.get("content-type", ""),
                                       _at_most(req.read, MAX_UPLOAD_BYTES), spool)
            finally:
                for f in spooled:
                    f.close()
            return self._add_file({p.name: p for p in parts})
        finally:
            for f in spooled:  # the file that was added has moved; any other is left over
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f.name)

    def _add_file(self, fields: dict[str, Part]) -> Response:
        if "file" not in fields:
            raise missing("file")
        if "purpose" not in fields:
            raise missing("purpose")
        purpose = fields["purpose"].data.decode("utf-8", "replace").strip()
        if purpose not in FILE_PURPOSES:
            raise bad_request(f"Invalid value for 'purpose': '{purpose}'. Expected one of "
                              f"{', '.join(FILE_PURPOSES)}.", param="purpose")
        now = int(self.store.now())
        expires_at = now + 30 * DAY if purpose == "batch" else None
        if "expires_after[seconds]" in fields:
            try:
                seconds = int(fields["expires_after[seconds]"].data)
            except ValueError:
                seconds = -1
            if not 3600 <= seconds <= 30 * DAY:
                raise bad_request("expires_after.seconds must be between 3600 and 2592000.",
                                  param="expires_after.seconds")
            expires_at = now + seconds
        upload = fields["file"].path
        assert upload is not None  # every "file" part is spooled
        meta = self.store.add_file(upload, filename=fields["file"].filename or "upload",
                                   purpose=purpose, created_at=now, expires_at=expires_at)
        self.store.bump("files_created")
        if purpose == "batch" and meta["bytes"] >= self.refresher.min_bytes:
            self.refresher.warm()  # its batch will likely want the worker processes
        return 200, meta

    def list_files(self, req: Request) -> Response:
        limit = _int_arg(req, "limit", 10000, 1, 10000)
        order = req.arg("order") or "desc"
        if order not in ("asc", "desc"):
            raise bad_request("Invalid 'order': expected 'asc' or 'desc'.", param="order")
        purpose = req.arg("purpose")
        files = [f for f in self.store.list_files() if purpose is None or f["purpose"] == purpose]
        files.sort(key=lambda f: (f["created_at"], f["id"]), reverse=order == "desc")
        page, more = _page(files, req.arg("after"), limit)
        return 200, _list(page, more)

    def _file(self, file_id: str) -> dict[str, Any]:
        meta = self.store.get_file(file_id)
        if meta is None:
            raise not_found(f"No such File object: {file_id}", param="id")
        return meta

    def get_file(self, req: Request) -> Response:
        return 200, self._file(req.params["id"])

    def delete_file(self, req: Request) -> Response:
        file_id = req.params["id"]
        if not self.store.delete_file(file_id):
            raise not_found(f"No such File object: {file_id}", param="id")
        self.store.bump("files_deleted")
        return 200, {"id": file_id, "object": "file", "deleted": True}

    def file_content(self, req: Request) -> Response:
        self._file(req.params["id"])
        return 200, self.store.file_path(req.params["id"])

    # -- batches --------------------------------------------------------------------------------
    def create_batch(self, req: Request) -> Response:
        data = req.json()
        for name in ("input_file_id", "endpoint", "completion_window"):
            if data.get(name) is None:
                raise missing(name)
        endpoint, window = data["endpoint"], data["completion_window"]
        if endpoint not in BATCH_ENDPOINTS:
            raise bad_request(f"Invalid value for 'endpoint': '{endpoint}'.", param="endpoint")
        if endpoint not in processing.SUPPORTED_ENDPOINTS:
            raise bad_request(f"[batchsql emulator] The endpoint '{endpoint}' is not emulated; "
                              f"use one of {', '.join(processing.SUPPORTED_ENDPOINTS)}.",
                              param="endpoint", code="unsupported_value")
        if window != "24h":
            raise bad_request(f"Invalid value for 'completion_window': '{window}'. Supported "
                              "values are: '24h'.", param="completion_window")
        metadata = _check_metadata(data.get("metadata"))
        meta = self._file(str(data["input_file_id"]))
        if meta["purpose"] != "batch":
            raise bad_request(f"File {meta['id']} has purpose '{meta['purpose']}'; a batch "
                              "input file needs purpose 'batch'.", param="input_file_id")
        batch_id = new_id("batch_")
        self.store.link_input(meta["id"], batch_id)
        rec = {
            "id": batch_id, "endpoint": endpoint, "input_file_id": meta["id"],
            "completion_window": window, "metadata": metadata,
            "model": validation.peek_model(self.store.batch_input_path(batch_id)),
            "created": self.store.now(), "seq": self.store.bump("batch_seq"),
            "faults": self.store.load_faults().model_dump(),
            "validation": None, "result": None, "cancel_at": None, "cancel_processed": None,
        }
        self.store.save_batch(rec)
        self.store.bump("batches_created")
        if self.worker is not None:
            self.worker.schedule(rec)
        # The create answer always says `validating`, as the real API does, even when the
        # clock says the batch is already past it: show it as of a moment before creation.
        return 200, timeline.batch_view(rec, rec["created"] - 1e-3)

    def _batch(self, batch_id: str) -> dict[str, Any]:
        rec = self.store.load_batch(batch_id)
        if rec is None:
            raise not_found(f"No batch found with id '{batch_id}'.", param="batch_id")
        return rec

    def get_batch(self, req: Request) -> Response:
        now = self.store.now()
        rec = self.refresher.refresh(self._batch(req.params["id"]), now)
        return 200, timeline.batch_view(rec, now)

    def list_batches(self, req: Request) -> Response:
        limit = _int_arg(req, "limit", 20, 1, 100)
        recs = sorted(self.store.list_batches(), key=lambda r: (r["seq"], r["created"]),
                      reverse=True)
        page, more = _page(recs, req.arg("after"), limit)
        now = self.store.now()
        views = [timeline.batch_view(r, now) for r in self.refresher.refresh_all(page, now)]
        return 200, _list(views, more)

    def cancel_batch(self, req: Request) -> Response:
        now = self.store.now()
        outcome = processing.cancel(self.store, self._batch(req.params["id"]), now)
        if isinstance(outcome, str):
            raise ApiError(409, f"Cannot cancel a batch with status '{outcome}'.")
        fresh = outcome.get("cancel_at") == now
        if fresh:
            self.store.bump("batches_cancelled")
            if self.worker is not None:
                self.worker.schedule(outcome)
        # The cancel answer says `cancelling`; a later read may already say `cancelled`.
        rec = outcome if fresh else processing.refresh(self.store, outcome, now)
        return 200, timeline.batch_view(rec, now, cancelling=fresh)

    # -- admin ----------------------------------------------------------------------------------
    def get_faults(self, req: Request) -> Response:
        return 200, self.store.load_faults().model_dump()

    def post_faults(self, req: Request) -> Response:
        try:
            faults = Faults.model_validate(req.json())
        except ValidationError as e:
            raise bad_request(f"Invalid faults: {e}", param="faults") from None
        self.store.save_faults(faults)
        return 200, faults.model_dump()

    def get_clock(self, req: Request) -> Response:
        return 200, {"offset": self.store.clock_offset(), "now": self.store.now()}

    def post_clock(self, req: Request) -> Response:
        data = req.json()
        try:
            seconds = float(data.get("advance", 0))
        except (TypeError, ValueError):
            raise bad_request("'advance' must be a number of seconds.", param="advance") from None
        self.store.advance_clock(seconds)
        if self.worker is not None:
            self.worker.wake()
        return self.get_clock(req)

    def get_stats(self, req: Request) -> Response:
        return 200, self.stats()

    def stats(self) -> dict[str, Any]:
        now = self.store.now()
        recs = self.refresher.refresh_all(self.store.list_batches(), now)
        by_status = Counter(timeline.status_of(r, now) for r in recs)
        # The SDK retries a create whose answer was lost: same file, endpoint and metadata.
        keys = Counter((r["input_file_id"], r["endpoint"], json.dumps(r["metadata"],
                        sort_keys=True)) for r in recs)
        counters = self.store.counters()
        return {
            "files_created": counters.get("files_created", 0),
            "files_deleted": counters.get("files_deleted", 0),
            "batches_created": counters.get("batches_created", 0),
            "batches_cancelled": counters.get("batches_cancelled", 0),
            "batches_by_status": dict(sorted(by_status.items())),
            "duplicate_batches": sum(n - 1 for n in keys.values()),
            "http_faults_injected": counters.get("http_faults_injected", 0),
            "downloads_cut": counters.get("downloads_cut", 0),
            # The pool of worker processes answering large batches is up (Refresher.ready).
            "workers_ready": self.refresher.ready,
            "clock_offset": self.store.clock_offset(),
            "faults": self.store.load_faults().model_dump(),
        }


def _too_large() -> ApiError:
    return bad_request("File is too large: the maximum is 512 MB.", param="file")


def _at_most(read: Callable[[int], bytes], limit: int) -> Callable[[int], bytes]:
    """``read`` that fails like the API once more than ``limit`` bytes came (chunked bodies
    announce no length)."""
    total = 0

    def limited(n: int) -> bytes:
        nonlocal total
        data = read(n)
        total += len(data)
        if total > limit:
            raise _too_large()
        return data

    return limited


def _check_metadata(metadata: Any) -> dict[str, str] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise bad_request("Invalid type for 'metadata': expected an object.", param="metadata")
    if len(metadata) > 16:
        raise bad_request("Invalid 'metadata': too many properties. Expected an object with at "
                          f"most 16 properties, but got an object with {len(metadata)} "
                          "properties instead.", param="metadata", code="object_above_max_length")
    for key, value in metadata.items():
        if len(key) > 64:
            raise bad_request(f"Invalid 'metadata': key '{key[:20]}…' is longer than 64 "
                              "characters.", param="metadata")
        if not isinstance(value, str):
            raise bad_request(f"Invalid type for 'metadata.{key}': expected a string.",
                              param=f"metadata.{key}", code="invalid_type")
        if len(value) > 512:
            raise bad_request(f"Invalid 'metadata.{key}': string longer than 512 characters.",
                              param=f"metadata.{key}", code="string_above_max_length")
    return metadata
