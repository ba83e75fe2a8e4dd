"""The mailer: queued in the request's transaction, delivered over real SMTP after commit."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.errors import InvalidInput
from app.core.mail import mailer, outbox
from app.extensions import db
from app.models import OutboundMail
from app.models.types import utcnow
from tests.support.mail_fixtures import SMTPServer, body_of, free_port


def add_send_route(app, *, fail: bool = False) -> None:
    """A throw-away view that queues one message (and optionally fails afterwards)."""

    def send():
        mailer.queue("ada@example.com", "magic_link", email="ada@example.com",
                     url=mailer.link("/login/magic", token="abc"), minutes=15)
        if fail:
            raise InvalidInput("Something else went wrong.")
        return "queued"

    app.add_url_rule("/test-send", "test_send", send)


def rows(app) -> list[OutboundMail]:
    with app.app_context():
        found = list(db.session.scalars(select(OutboundMail)))
        db.session.expunge_all()
        return found


def wait_until(predicate, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_a_queued_message_arrives_over_smtp_with_text_and_html_parts(mail_app, smtp_server):
    add_send_route(mail_app)
    response = mail_app.test_client().get("/test-send")
    assert response.status_code == 200
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Your sign-in link"
    assert message["From"] == "Tessera <no-reply@localhost>"
    # Links are built on the issuer, not on whatever Host the request came with.
    assert "http://localhost/login/magic?token=abc" in body_of(message, "plain")
    assert 'href="http://localhost/login/magic?token=abc"' in body_of(message, "html")
    [row] = wait_until(lambda: [r for r in rows(mail_app) if r.status == "sent"])
    assert row.attempts == 1 and row.sent_at is not None and row.last_error is None


def test_a_dead_smtp_server_does_not_fail_the_request_and_the_message_is_retried(
        smtp_app_factory):
    port = free_port()  # nothing listens here yet
    app = smtp_app_factory(port)
    add_send_route(app)
    started = time.monotonic()
    response = app.test_client().get("/test-send")
    assert response.status_code == 200
    assert time.monotonic() - started < 2  # the request never waited on the relay

    [row] = wait_until(lambda: [r for r in rows(app) if r.attempts == 1 and r.last_error])
    assert row.status == "queued"
    assert "ConnectionRefused" in row.last_error
    retry_in = (row.next_attempt_at - utcnow()).total_seconds()
    assert 20 < retry_in <= 30  # first backoff step

    server = SMTPServer(port).start()
    try:
        with app.app_context():
            # Before the backoff has passed, nothing is due.
            assert mailer.deliver_due() == {"sent": 0, "failed": 0}
            assert mailer.deliver_due(now=row.next_attempt_at) == {"sent": 1, "failed": 0}
        [message] = server.wait_for(1)
        assert message["Subject"] == "Your sign-in link"
    finally:
        server.stop()
    [row] = rows(app)
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_message_is_marked_failed_after_the_last_attempt(smtp_app_factory):
    app = smtp_app_factory(free_port(), MAIL_MAX_ATTEMPTS=2)
    outbox.stop_worker(app)  # drive the attempts by hand
    with app.app_context():
        mailer.queue("ada@example.com", "magic_link", email="ada@example.com", url="x",
                     minutes=15)
        db.session.commit()
        later = utcnow() + timedelta(days=1)
        assert mailer.deliver_due(now=utcnow()) == {"sent": 0, "failed": 1}
        assert mailer.deliver_due(now=later) == {"sent": 0, "failed": 1}
        db.session.expire_all()
        row = db.session.scalar(select(OutboundMail))
        assert (row.status, row.attempts) == ("failed", 2)
        assert mailer.deliver_due(now=later + timedelta(days=1)) == {"sent": 0, "failed": 0}


def test_a_rolled_back_request_queues_nothing(mail_app, smtp_server):
    add_send_route(mail_app, fail=True)
    response = mail_app.test_client().get("/test-send")
    assert response.status_code == 400
    assert rows(mail_app) == []
    time.sleep(0.3)
    assert smtp_server.messages == []


def test_two_workers_never_send_one_message_twice(mail_app, smtp_server):
    with mail_app.app_context():
        for _ in range(5):
            mailer.queue("ada@example.com", "magic_link", email="ada@example.com", url="x",
                         minutes=15)
        db.session.commit()
        # The background worker and this explicit round race for the same rows.
        mailer.deliver_due()
    smtp_server.wait_for(5)
    time.sleep(0.5)
    assert len(smtp_server.messages) == 5
    assert {r.attempts for r in rows(mail_app)} == {1}


def test_backoff_grows_from_thirty_seconds():
    steps = [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)]
    assert steps == [30, 120, 480, 1920]


def test_without_smtp_the_rows_are_the_outbox_listed_in_development(app, client):
    add_send_route(app)
    assert client.get("/test-send").status_code == 200
    with app.app_context():
        assert mailer.deliver_due() == {"sent": 0, "failed": 0}
    [row] = rows(app)
    assert (row.status, row.attempts) == ("queued", 0)
    page = client.get("/dev/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="http://localhost/login/magic?token=abc"' in html
    assert "Your sign-in link" in html


def test_the_outbox_page_does_not_exist_in_production(app_factory):
    app = app_factory(ENV="production", ISSUER="https://id.example.com")
    assert app.test_client().get("/dev/outbox").status_code == 404


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_settings_fail_cleanly_against_a_plain_server(smtp_server, smtp_app_factory,
                                                          security):
    app = smtp_app_factory(smtp_server.port, SMTP_SECURITY=security)
    outbox.stop_worker(app)
    with app.app_context():
        mailer.queue("ada@example.com", "magic_link", email="ada@example.com", url="x",
                     minutes=15)
        db.session.commit()
        assert mailer.deliver_due() == {"sent": 0, "failed": 1}
        row = db.session.scalar(select(OutboundMail))
        assert row.status == "queued" and row.last_error
    assert smtp_server.messages == []
