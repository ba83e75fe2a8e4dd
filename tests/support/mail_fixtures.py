"""A real SMTP server for the tests (aiosmtpd on loopback) and apps that deliver to it."""

from __future__ import annotations

import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CollectingHandler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content,
                                                policy=policy.default))
        return "250 Message accepted for delivery"


class SMTPServer:
    """aiosmtpd's Controller on 127.0.0.1; `messages` holds what it received."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.handler = CollectingHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")
            time.sleep(0.05)
        return self.messages


def settle_mail_requests(app, timeout: float = 10) -> None:
    """Carry out every recorded mail request (app/core/mail/mail_requests.py) before a test reads
    the outbox or the audit log: the worker woken by the commit may be at it already, so do
    it here too, and wait until none is left queued."""
    from sqlalchemy import func, select

    from app.core.mail import mail_requests
    from app.extensions import db
    from app.models import MailRequest
    from app.models.mail import QUEUED

    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            mail_requests.deliver_due()
            left = db.session.scalar(select(func.count()).select_from(MailRequest)
                                     .where(MailRequest.status == QUEUED))
        if not left:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{left} mail request(s) still queued")
        time.sleep(0.02)


def body_of(message: EmailMessage, subtype: str = "plain") -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_app_factory(app_factory):
    """Apps that deliver to an SMTP server on the given port; their mail workers stop after."""
    from app.core.mail import outbox

    made = []

    def make(port: int, **overrides):
        settings = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
                    "SMTP_TIMEOUT": 2}
        app = app_factory(**(settings | overrides))
        made.append(app)
        return app

    yield make
    for app in made:
        outbox.stop_worker(app)


@pytest.fixture
def mail_app(smtp_server, smtp_app_factory):
    return smtp_app_factory(smtp_server.port)
