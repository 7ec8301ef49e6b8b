"""Wire helpers: OpenAI-style errors and multipart/form-data uploads.

Uploads are parsed with the stdlib ``email`` package for everything that has syntax (the
boundary parameter, each part's Content-Disposition with its quoted or RFC 2231 ``name`` and
``filename``); the part bodies are cut out of the request stream by searching for the
delimiter, so that a 200 MB upload goes to disk in chunks, never whole in memory, and is not
copied line by line through the email feed parser.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import email.utils
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO


class ApiError(Exception):
    """An error answered as ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.type, self.param, self.code = type, param, code
        self.headers = headers or {}

    def payload(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param,
                          "code": self.code}}


def not_found(message: str, param: str | None = None) -> ApiError:
    return ApiError(404, message, param=param)


def bad_request(message: str, param: str | None = None,
                code: str | None = "invalid_value") -> ApiError:
    return ApiError(400, message, param=param, code=code)


def missing(param: str) -> ApiError:
    return ApiError(400, f"Missing required parameter: '{param}'.", param=param,
                    code="missing_required_parameter")


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes  # a field's value; empty for a part that went to ``path``
    path: Path | None = None  # where the body of a file part was written


def content_type_param(header: str, param: str) -> tuple[str, str | None]:
    """(media type, value of ``param``) of a Content-Type header, parsed by the email package."""
    msg = email.message.Message()
    msg["Content-Type"] = header
    value = msg.get_param(param)
    if isinstance(value, tuple):  # RFC 2231 encoded
        value = email.utils.collapse_rfc2231_value(value)
    return msg.get_content_type(), value


def parse_multipart(content_type: str, body: bytes) -> list[Part]:
    """The parts of a multipart/form-data body, all in memory; ApiError(400) when malformed."""
    return read_multipart(content_type, io.BytesIO(body).read)


_CHUNK = 1024 * 1024
_MAX_HEADERS = 64 * 1024  # of one part


def read_multipart(content_type: str, read: Callable[[int], bytes],
                   spool: Callable[[Part], BinaryIO | None] | None = None) -> list[Part]:
    """The parts of a multipart/form-data body read from ``read``; ApiError(400) if malformed.

    ``spool(part)`` may return an open binary file for a part (it gets the part's name,
    filename and content type): its body is streamed there, ``path`` set from the file's
    ``name``, and never held in memory. The caller closes and removes those files.
    """
    media, boundary = content_type_param(content_type, "boundary")
    if media != "multipart/form-data" or not boundary:
        raise bad_request("Expected a multipart/form-data body with a boundary "
                          f"(got Content-Type '{content_type}').")
    delimiter = b"--" + boundary.encode("latin-1")
    marker = b"\r\n" + delimiter  # ends a part's body
    buf = bytearray()
    eof = False

    def fill() -> bool:
        nonlocal eof
        data = b"" if eof else read(_CHUNK)
        eof = not data
        buf.extend(data)
        return not eof

    # The preamble (anything before the first delimiter) is dropped as it streams by.
    while (start := buf.find(delimiter)) < 0:
        del buf[:max(0, len(buf) - len(delimiter) + 1)]
        if not fill():
            raise bad_request("Malformed multipart body: boundary not found.")
    del buf[:start + len(delimiter)]
    parts: list[Part] = []
    header_parser = email.parser.BytesHeaderParser(policy=email.policy.HTTP)
    while True:
        while len(buf) < 2 and fill():
            pass
        if buf.startswith(b"--"):  # closing delimiter
            return parts
        while (head_start := buf.find(b"\r\n") + 2) < 2 or (
                head_end := buf.find(b"\r\n\r\n", head_start)) < 0:
            if len(buf) > _MAX_HEADERS or not fill():
                raise bad_request("Malformed multipart body: part headers not terminated.")
        headers = header_parser.parsebytes(bytes(buf[head_start:head_end + 4]))
        name = headers.get_param("name", header="content-disposition")
        if isinstance(name, tuple):
            name = email.utils.collapse_rfc2231_value(name)
        part = Part(name=str(name or ""), filename=headers.get_filename(),
                    content_type=headers.get("content-type"), data=b"")
        del buf[:head_end + 4]
        sink = spool(part) if spool is not None else None
        if sink is not None:
            part.path = Path(sink.name)
        data = io.BytesIO() if sink is None else sink
        while (end := buf.find(marker)) < 0:
            keep = len(marker) - 1  # the start of a marker that the next read completes
            if len(buf) > keep:
                data.write(memoryview(buf)[:len(buf) - keep])
                del buf[:len(buf) - keep]
            if not fill():
                raise bad_request("Malformed multipart body: closing boundary not found.")
        data.write(memoryview(buf)[:end])
        if sink is None:
            part.data = data.getvalue()  # type: ignore[attr-defined]
        del buf[:end + len(marker)]
        parts.append(part)
