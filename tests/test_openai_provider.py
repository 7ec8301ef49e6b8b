"""OpenAIProvider's file transfers against the emulator, over HTTP with the openai SDK."""

from __future__ import annotations

import random
from pathlib import Path

from batchsql.providers.openai import OpenAIProvider

from .conftest import EmulatorServer


def test_a_file_of_many_reads_downloads_byte_for_byte(srv: EmulatorServer,
                                                       tmp_path: Path) -> None:
    # About 3 MB of lines of varied length and bytes (UTF-8, escapes): dozens of socket
    # reads and several file-buffer flushes, none of them aligned with a line.
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
        dest = tmp_path / "spool" / "batch" / "output.jsonl"
        assert provider.download(file_id, dest) == dest
    finally:
        provider.close()
    assert len(data) > 2_500_000
    assert dest.read_bytes() == data
    # Only the whole file is left: its partial download was renamed into place.
    assert sorted(p.name for p in dest.parent.iterdir()) == ["output.jsonl"]
