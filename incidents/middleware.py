"""
Refuse request bodies larger than ``INCIDENTS_MAX_REQUEST_BYTES`` before anything parses them.

A declared ``Content-Length`` above the limit answers 413 at once, without reading a
byte. A body without a length (``Transfer-Encoding: chunked`` that the WSGI server
de-chunks and marks ``wsgi.input_terminated``, or any ASGI body) is read up to one byte
past the limit: past it, 413; within it, the bytes are handed on as an ordinary body
with its length, so parsers never see more than the limit. Under WSGI without either,
Django reads no body at all, so nothing unbounded reaches a parser.

The answer is JSON: ``{"detail": ..., "max_bytes": N}``, or the Open311 error list
``[{"code": 413, "description": ...}]`` under ``/open311/``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

# Methods whose requests never carry a body worth reading.
BODILESS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def declared_length(request: HttpRequest) -> int | None:
    """The ``Content-Length`` of the request, or ``None`` when absent or not a number."""
    value = request.META.get("CONTENT_LENGTH")
    if value in (None, ""):
        return None
    try:
        length = int(value)
    except (TypeError, ValueError):
        return None
    return length if length >= 0 else None


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    message = _("The request body is larger than %(limit)d bytes; send less per request (split the batch).") % {
        "limit": limit
    }
    if request.path.startswith("/open311/"):
        body = [{"code": 413, "description": message}]
    else:
        body = {"detail": message, "max_bytes": limit}
    # No "Connection: close" here: hop-by-hop headers are the server's (wsgiref refuses them from the app);
    # the server discards the unread rest of the body. Put the same limit in the reverse proxy.
    return HttpResponse(json.dumps(body), status=413, content_type="application/json; charset=utf-8")


class RequestSizeLimitMiddleware:
    """413 for bodies over ``INCIDENTS_MAX_REQUEST_BYTES`` (``0``/``None``: no limit), before any parsing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.INCIDENTS_MAX_REQUEST_BYTES
        if limit and request.method not in BODILESS:
            length = declared_length(request)
            if length is not None:
                if length > limit:
                    return too_large(request, limit)
            elif not self._buffer_unsized_body(request, limit):
                return too_large(request, limit)
        return self.get_response(request)

    @staticmethod
    def _buffer_unsized_body(request: HttpRequest, limit: int) -> bool:
        """Read a body without a length up to ``limit``; ``False`` when it is longer."""
        environ = getattr(request, "environ", {})
        if environ.get("wsgi.input_terminated") and "wsgi.input" in environ:
            # The server de-chunked the body and ends the stream with it: reading to its end is safe.
            stream = environ["wsgi.input"]
        else:
            # ASGI: the body; WSGI without a length: Django's empty stream.
            stream = getattr(request, "_stream", None)
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            return False
        # From here on the request is an ordinary one with a known length (what parsers expect).
        request._stream = io.BytesIO(data)
        request._read_started = False
        request.META["CONTENT_LENGTH"] = str(len(data))
        return True
