"""OpenAI Batch API through the official SDK (also Azure OpenAI and compatible servers)."""

from __future__ import annotations

import dataclasses
import functools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import openai

from batchsql.errors import ProviderError
from batchsql.providers.base import BatchInfo, Provider

T = TypeVar("T")

# The SDK retries 408/409/429/5xx and connection errors itself, honouring Retry-After.
SDK_RETRIES = 5


class OpenAIProvider(Provider):
    """Files + Batches endpoints: upload JSONL (purpose=batch), create, retrieve, read results."""

    name = "openai"
    MAX_REQUESTS = 50_000
    MAX_BYTES = 200 * 1024 * 1024

    def __init__(self, *, api_key: str | None, base_url: str | None = None,
                 client: openai.OpenAI | None = None, **client_options: Any) -> None:
        self._client = client
        self._options = {"api_key": api_key, "base_url": base_url,
                         "max_retries": SDK_RETRIES, **client_options}
        self._making = threading.Lock()

    @property
    def client(self) -> openai.OpenAI:
        """The SDK's client, made at first use: a run with nothing to send or collect never
        talks to the provider, and making one took 0.1-0.16 s of a 1.3 s rerun."""
        with self._making:  # the upload and results threads may be first at once
            if self._client is None:
                self._client = openai.OpenAI(**self._options)
            return self._client

    def upload(self, path: Path) -> str:
        with open(path, "rb") as handle:
            uploaded = _call(lambda: self.client.files.create(
                file=(path.name, handle, "application/jsonl"), purpose="batch"))
        return uploaded.id

    def create(self, file_id: str, *, endpoint: str, metadata: dict[str, str]) -> BatchInfo:
        # The raw response tells whether the SDK retried: only then can a second batch exist.
        response = _call(lambda: self.client.batches.with_raw_response.create(
            input_file_id=file_id, endpoint=endpoint,  # type: ignore[arg-type]
            completion_window="24h", metadata=metadata))
        batch = _call(response.parse)
        return dataclasses.replace(_info(batch), create_attempts=response.retries_taken + 1)

    def find_batches(self, key: str, value: str, *, since: int) -> list[BatchInfo]:
        found = []

        def scan() -> None:
            # Newest first: stop at the first batch older than the window we look in.
            for batch in self.client.batches.list(limit=100):
                if batch.created_at < since:
                    return
                if (batch.metadata or {}).get(key) == value:
                    found.append(_info(batch))

        _call(scan)
        return sorted(found, key=lambda b: (b.created_at, b.id))

    def find_file(self, filename: str, *, since: int) -> str | None:
        def scan() -> str | None:
            for item in self.client.files.list(purpose="batch", order="desc"):
                if item.created_at < since:
                    return None
                if item.filename == filename:
                    return item.id
            return None

        return _call(scan)

    def file_exists(self, file_id: str) -> bool:
        try:
            _call(lambda: self.client.files.retrieve(file_id))
        except ProviderError as e:
            if e.not_found:
                return False
            raise
        return True

    def delete_file(self, file_id: str) -> None:
        try:
            _call(lambda: self.client.files.delete(file_id))
        except ProviderError as e:
            if not e.not_found:
                raise

    def retrieve(self, batch_id: str) -> BatchInfo:
        return _info(_call(lambda: self.client.batches.retrieve(batch_id)))

    def file_chunks(self, file_id: str) -> Iterator[bytes]:
        """The file's bytes as they arrive (64 kB reads: asking iter_bytes for larger ones
        joins them in Python first, a quarter more CPU).

        A generator: the response stays open while the caller reads, and closes with it.
        The SDK retries a request that fails, not a body that breaks off once it streams:
        that is done here, as many times as the SDK would retry, by asking for the file again
        and passing over the bytes already given (a provider's files never change).
        """
        given, breaks = 0, 0
        while True:
            skip = given
            try:
                with _provider_errors(), \
                        self.client.files.with_streaming_response.content(file_id) as response:
                    for chunk in response.iter_bytes():
                        if skip:
                            if len(chunk) <= skip:
                                skip -= len(chunk)
                                continue
                            chunk, skip = chunk[skip:], 0
                        given += len(chunk)
                        yield chunk
            except _transport_errors() as e:
                breaks += 1
                if breaks > self.client.max_retries:
                    raise ProviderError(
                        f"provider unavailable: the download of {file_id} broke off after "
                        f"{given} bytes, {breaks} times: {e}", transient=True) from e
                time.sleep(min(8.0, 0.5 * 2 ** (breaks - 1)))  # the SDK's backoff
                continue
            if skip:
                raise ProviderError(f"file {file_id} came back shorter than before: "
                                    f"{given - skip} bytes, {given} already read",
                                    transient=True)
            return

    def cancel(self, batch_id: str) -> BatchInfo:
        return _info(_call(lambda: self.client.batches.cancel(batch_id)))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _info(batch: Any) -> BatchInfo:
    counts = batch.request_counts
    errors = [e.model_dump() for e in (batch.errors.data or [])] if batch.errors else []
    return BatchInfo(
        id=batch.id, status=batch.status, input_file_id=batch.input_file_id,
        output_file_id=batch.output_file_id, error_file_id=batch.error_file_id,
        total=counts.total if counts else 0, completed=counts.completed if counts else 0,
        failed=counts.failed if counts else 0, errors=errors,
        metadata=dict(batch.metadata or {}), created_at=batch.created_at,
    )


def _call(fn: Callable[[], T]) -> T:
    """Run an SDK call; turn its exceptions into ProviderError (transient or terminal)."""
    with _provider_errors():
        return fn()


@contextmanager
def _provider_errors() -> Iterator[None]:
    """The SDK's exceptions inside the block as ProviderError (transient or terminal)."""
    try:
        yield
    except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as e:
        raise ProviderError(f"provider unavailable: {_describe(e)}", transient=True) from e
    except openai.APIStatusError as e:
        raise ProviderError(f"provider refused the request: {_describe(e)}",
                            not_found=isinstance(e, openai.NotFoundError)) from e


@functools.cache
def _transport_errors() -> type[Exception]:
    """The network errors of the SDK's HTTP library (httpx2 for openai 3.x, httpx before):
    a body read after the SDK has returned the response raises them unwrapped."""
    for base in openai.DefaultHttpxClient.__mro__[1:]:
        library = sys.modules.get(base.__module__.split(".")[0])
        error = getattr(library, "TransportError", None)
        if isinstance(error, type) and issubclass(error, Exception):
            return error
    raise RuntimeError("cannot find the HTTP library of the openai SDK")  # a new SDK layout


def _describe(error: openai.OpenAIError) -> str:
    # The SDK's messages carry the HTTP status and the API's own error text, never the key.
    status = getattr(error, "status_code", None)
    return f"HTTP {status}: {error.message}" if status else str(error)
