"""A real SMTP server (aiosmtpd) and a real webhook receiver on 127.0.0.1, and a planner who subscribes."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.pipeline.conftest import push  # noqa: F401 (the pipeline's fixtures, for these tests too)
from tests.pipeline.test_celery import celery_worker  # noqa: F401

# Short delays: the first retry after 50 ms, then 100, 200 ...
RETRY_SECONDS = 0.05


class _Inbox:
    def __init__(self):
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.original_content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """An SMTP server on 127.0.0.1 that keeps what it receives; Django's mail goes to it."""
    inbox = _Inbox()
    # aiosmtpd checks its server by connecting to the port it was given: give it a real one.
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived

    @property
    def delivery_id(self) -> str:
        return self.headers["X-Cityincidents-Delivery"]

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver: answers the statuses it is given (then 200), checks every signature."""

    secret: str
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    bad_signatures: int = 0
    url: str = ""

    def wait_for(self, count: int, timeout: float = 5.0, deliver: bool = True) -> list[Received]:
        """Run the delivery (``manage.py deliver --once``) until ``count`` calls arrived."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            if deliver:
                call_command("deliver", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
            time.sleep(0.02)
        return self.received


@pytest.fixture
def receiver(settings) -> Callable[..., Receiver]:
    servers = []

    def start(
        secret: str = "s3cret-webhook-key",  # noqa: S107 (a test key)
        statuses: list[int] | None = None,
    ) -> Receiver:
        state = Receiver(secret=secret, statuses=list(statuses or []))

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(state.secret.encode(), body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers.get("X-Cityincidents-Signature", "")):
                    state.bad_signatures += 1
                state.received.append(Received(dict(self.headers), body, time.monotonic()))
                status = state.statuses.pop(0) if state.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/incidents"
        return state

    settings.INCIDENTS_WEBHOOK_ALLOW_PRIVATE = True
    settings.INCIDENTS_DELIVERY_RETRY_SECONDS = RETRY_SECONDS
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def planner(db):
    return get_user_model().objects.create_user("planner", "planner@example.org", "pw-planner-1")
