"""Wire helpers: OpenAI-style errors and multipart/form-data uploads.

Uploads are parsed with the stdlib ``email`` package for everything that has syntax (the
boundary parameter, each part's Content-Disposition with its quoted or RFC 2231 ``name`` and
``filename``); the part bodies are cut out of the request bytes by searching for the delimiter,
which keeps a 200 MB upload from being copied line by line through the email feed parser.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import email.utils
from dataclasses import dataclass
from typing import Any


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
    data: bytes


def content_type_param(header: str, param: str) -> tuple[str, str | None]:
    """(media type, value of ``param``) of a Content-Type header, parsed by the email package."""
    msg = email.message.Message()
    msg["Content-Type"] = header
    value = msg.get_param(param)
    if isinstance(value, tuple):  # RFC 2231 encoded
        value = email.utils.collapse_rfc2231_value(value)
    return msg.get_content_type(), value


def parse_multipart(content_type: str, body: bytes) -> list[Part]:
    """The parts of a multipart/form-data body; ApiError(400) when it is malformed."""
    media, boundary = content_type_param(content_type, "boundary")
    if media != "multipart/form-data" or not boundary:
        raise bad_request("Expected a multipart/form-data body with a boundary "
                          f"(got Content-Type '{content_type}').")
    delimiter = b"--" + boundary.encode("latin-1")
    start = body.find(delimiter)
    if start < 0:
        raise bad_request("Malformed multipart body: boundary not found.")
    parts: list[Part] = []
    header_parser = email.parser.BytesHeaderParser(policy=email.policy.HTTP)
    pos = start + len(delimiter)
    while True:
        if body.startswith(b"--", pos):  # closing delimiter
            return parts
        head_start = body.find(b"\r\n", pos) + 2
        head_end = body.find(b"\r\n\r\n", head_start)
        if head_start < 2 or head_end < 0:
            raise bad_request("Malformed multipart body: part headers not terminated.")
        end = body.find(b"\r\n" + delimiter, head_end + 4)
        if end < 0:
            raise bad_request("Malformed multipart body: closing boundary not found.")
        headers = header_parser.parsebytes(body[head_start:head_end + 4])
        name = headers.get_param("name", header="content-disposition")
        filename = headers.get_filename()
        if isinstance(name, tuple):
            name = email.utils.collapse_rfc2231_value(name)
        parts.append(Part(name=str(name or ""), filename=filename,
                          content_type=headers.get("content-type"),
                          data=body[head_end + 4:end]))
        pos = end + 2 + len(delimiter)

