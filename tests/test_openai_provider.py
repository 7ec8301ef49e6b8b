"""OpenAIProvider's file transfers against the emulator, over HTTP with the openai SDK."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
import pytest
from openai._base_client import DEFAULT_CONNECTION_LIMITS

from batchsql.emulator.faults import Faults
from batchsql.errors import ProviderError
from batchsql.providers.openai import OpenAIProvider

from .conftest import EmulatorServer, Project


def test_a_file_of_many_reads_downloads_byte_for_byte(srv: EmulatorServer,
                                                       tmp_path: Path) -> None:
    # About 3 MB of lines of varied length and bytes (UTF-8, escapes): dozens of socket
    # reads, none of them aligned with a line.
    rng = random.Random(7)
    words = ["ticket", "refund", "naïve", "日本語", "emoji 🙂", '"quoted"', "back\\\\slash"]
    texts = (" ".join(rng.choices(words, k=rng.randint(1, 90))) for _ in range(12_000))
    lines = [f'{{"custom_id": "c-{i}", "text": "{text}"}}' for i, text in enumerate(texts)]
    data = ("\n".join(lines) + "\n").encode()
    source = tmp_path / "requests.jsonl"
    source.write_bytes(data)
    provider = OpenAIProvider(api_key="x", base_url=srv.base_url)
    try:
        file_id = provider.upload(source)
        chunks = list(provider.file_chunks(file_id))
    finally:
        provider.close()
    assert len(data) > 2_500_000 and len(chunks) > 10
    assert b"".join(chunks) == data


def test_a_download_stopped_early_frees_its_connection(srv: EmulatorServer,
                                                       tmp_path: Path) -> None:
    source = tmp_path / "requests.jsonl"
    source.write_bytes(b'{"custom_id": "c"}\n' * 200_000)
    # Two connections at most, and no waiting for one: a download left open would make the
    # third request fail. (The SDK's own Limits type, whichever HTTP library it ships with.)
    limits = type(DEFAULT_CONNECTION_LIMITS)(max_connections=2, max_keepalive_connections=2)
    http = openai.DefaultHttpxClient(limits=limits, timeout=openai.Timeout(30, pool=1))
    provider = OpenAIProvider(api_key="x", base_url=srv.base_url, http_client=http)
    try:
        file_id = provider.upload(source)
        for _ in range(10):
            chunks = provider.file_chunks(file_id)
            assert next(chunks).startswith(b'{"custom_id"')
            chunks.close()
        assert b"".join(provider.file_chunks(file_id)) == source.read_bytes()
    finally:
        provider.close()


def test_an_unknown_file_is_a_provider_error_when_its_download_begins(
        srv: EmulatorServer) -> None:
    provider = OpenAIProvider(api_key="x", base_url=srv.base_url)
    try:
        chunks = provider.file_chunks("file-does-not-exist")
        with pytest.raises(ProviderError, match="HTTP 404") as caught:
            next(chunks)
        assert caught.value.not_found
    finally:
        provider.close()


def test_a_download_that_breaks_off_is_resumed_byte_for_byte(srv: EmulatorServer,
                                                             tmp_path: Path) -> None:
    source = tmp_path / "requests.jsonl"
    source.write_bytes(b"".join(b'{"custom_id": "c-%d"}\n' % i for i in range(100_000)))
    provider = OpenAIProvider(api_key="x", base_url=srv.base_url)
    try:
        file_id = provider.upload(source)
        srv.set_faults(Faults(download_cut_times=2))
        data = b"".join(provider.file_chunks(file_id))
    finally:
        provider.close()
    assert srv.stats()["downloads_cut"] == 2
    assert data == source.read_bytes()


def test_a_download_that_keeps_breaking_off_is_a_transient_provider_error(
        srv: EmulatorServer, tmp_path: Path) -> None:
    source = tmp_path / "requests.jsonl"
    source.write_bytes(b'{"custom_id": "c"}\n' * 50_000)
    client = openai.OpenAI(api_key="x", base_url=srv.base_url, max_retries=1)
    provider = OpenAIProvider(api_key=None, client=client)
    try:
        file_id = provider.upload(source)
        srv.set_faults(Faults(download_cut_times=5))
        given = []
        with pytest.raises(ProviderError, match="broke off after 475000 bytes, 2 times") as caught:
            given.extend(provider.file_chunks(file_id))
        assert caught.value.transient
    finally:
        provider.close()
    # What was given before the error is the file's beginning, each byte once.
    assert b"".join(given) == source.read_bytes()[:475_000]
    assert srv.stats()["downloads_cut"] == 2


def test_the_sdk_client_is_made_at_first_use_and_only_once(srv: EmulatorServer) -> None:
    provider = OpenAIProvider(api_key="x", base_url=srv.base_url)
    provider.close()  # closing a provider that never talked makes no client to close
    assert provider._client is None
    with ThreadPoolExecutor(4) as pool:  # the upload and results threads may race to it
        made = set(pool.map(lambda _: id(provider.client), range(16)))
    assert len(made) == 1
    assert provider.file_exists("file-unknown") is False
    provider.close()


@pytest.mark.warehouses("duckdb")
def test_a_run_with_nothing_to_send_or_collect_makes_no_sdk_client(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[openai.OpenAI] = []

    class Counted(openai.OpenAI):
        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            made.append(self)

    monkeypatch.setattr("batchsql.providers.openai.openai.OpenAI", Counted)
    first = project.run()
    assert first.submitted > 0 and len(made) == 1
    again = project.run()
    assert again.selected == 0 and again.collected_batches == 0
    assert len(made) == 1
