"""Signed-out requests for account mail do the same work for every address, and the outbox
worker carries them out after the answer (app/core/mail/mail_requests.py)."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from app.core.mail import mail_requests, outbox
from app.extensions import db
from app.models import AuditEvent, MailRequest, OutboundMail
from app.models.mail import FAILED, QUEUED, SENT
from tests.conftest import fetch_csrf
from tests.support.mail_fixtures import settle_mail_requests

KNOWN = "ada@example.com"
UNKNOWN = "nobody@example.com"

# Every signed-out endpoint that mails an address on request: (path, hosted form's page).
SIGNED_OUT_SENDS = [
    ("/api/auth/forgot-password", None),
    ("/api/v1/auth/forgot-password", None),
    ("/api/v1/auth/resend-verification", None),
    ("/eventchain/v1/auth/password/reset/request", None),
    ("/eventchain/v1/auth/verify/send", None),
    ("/v1/auth/forgot-password", None),
    ("/v1/auth/magic-link/send", None),
    ("/password/forgot", "/password/forgot"),
    ("/login/magic/send", "/login"),
]


@contextmanager
def statements_run_here(app):
    """The SQL this thread runs (the outbox worker's own statements are left out)."""
    seen: list[str] = []
    here = threading.get_ident()

    def record(_conn, _cursor, statement, _parameters, _context, _executemany):
        if threading.get_ident() == here:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reset_mails(query) -> list[OutboundMail]:
    return query(lambda s: s.scalars(select(OutboundMail).where(
        OutboundMail.purpose == "password_reset")).all())


def ask(app, client, path: str, form_page: str | None, email: str):
    """One request for mail; returns (status, body, the statements it ran)."""
    token = fetch_csrf(client, form_page) if form_page else None
    with statements_run_here(app) as seen:
        if form_page:
            response = client.post(path, data={"csrf_token": token, "email": email})
        else:
            response = client.post(path, json={"email": email})
    return response.status_code, response.get_data(), list(seen)


@pytest.mark.parametrize("path, form_page", SIGNED_OUT_SENDS)
def test_a_signed_out_send_does_the_same_work_for_every_address(app, client, make_user, path,
                                                                 form_page):
    make_user(email=KNOWN)  # unverified, so a resend would really send
    known = ask(app, client, path, form_page, KNOWN)
    unknown = ask(app, client, path, form_page, UNKNOWN)
    assert known[0] == unknown[0] and known[0] in (200, 202)
    assert known[1] == unknown[1]
    assert known[2] == unknown[2]  # the same statements, in the same order
    # Neither looked the address up: the request is one recorded row.
    assert not any("FROM users" in statement for statement in known[2])


def test_the_worker_carries_a_request_out_after_the_answer(app, client, make_user, query):
    make_user(email=KNOWN)
    outbox.stop_worker(app)  # carry it out by hand, to see the state in between
    response = client.post("/v1/auth/forgot-password", json={"email": KNOWN},
                           environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert response.status_code == 200
    request = query(lambda s: s.scalars(select(MailRequest)).one())
    assert (request.kind, request.address, request.status) == ("password_reset", KNOWN,
                                                               QUEUED)
    assert "token" not in str(request.options)
    assert reset_mails(query) == []

    with app.app_context():
        assert mail_requests.deliver_due() == {"done": 1, "failed": 0}
    assert query(lambda s: s.scalar(select(MailRequest.status))) == SENT
    [mail] = reset_mails(query)
    assert mail.to == KNOWN
    audit = query(lambda s: s.scalars(select(AuditEvent).where(
        AuditEvent.event == "password.reset_requested")).one())
    assert audit.details["sent"] is True and audit.ip_address == "203.0.113.5"


def test_an_unknown_address_is_audited_and_sent_nothing(app, client, query):
    client.post("/api/v1/auth/forgot-password", json={"email": UNKNOWN})
    settle_mail_requests(app)
    assert reset_mails(query) == []
    audit = query(lambda s: s.scalars(select(AuditEvent).where(
        AuditEvent.event == "password.reset_requested")).one())
    assert audit.user_id is None
    assert audit.details == {"sent": False, "reason": "no_account"}


def services_of(app):
    return app.extensions["tessera"]


def failing_handler(address, **options):
    raise ConnectionError("the database went away")




def test_a_failing_request_is_retried_with_backoff_and_never_lost(app, client, make_user,
                                                                  query, monkeypatch):
    make_user(email=KNOWN)
    outbox.stop_worker(app)
    client.post("/v1/auth/forgot-password", json={"email": KNOWN})
    handlers = services_of(app).mail_request_handlers
    real = handlers["password_reset"]
    monkeypatch.setitem(handlers, "password_reset", failing_handler)
    with app.app_context():
        assert mail_requests.deliver_due() == {"done": 0, "failed": 1}
    row = query(lambda s: s.scalars(select(MailRequest)).one())
    assert row.status == QUEUED and row.attempts == 1
    assert row.last_error == "ConnectionError"  # the type only: no detail that might leak
    assert reset_mails(query) == []
    with app.app_context():  # not due again before its backoff
        assert mail_requests.deliver_due() == {"done": 0, "failed": 0}

    # Once the backoff has passed, a working handler sends it.
    monkeypatch.setitem(handlers, "password_reset", real)
    with app.app_context():
        assert mail_requests.deliver_due(now=row.next_attempt_at) == {"done": 1, "failed": 0}
    assert [mail.to for mail in reset_mails(query)] == [KNOWN]


def test_a_request_that_keeps_failing_is_marked_failed(app, client, query, monkeypatch):
    outbox.stop_worker(app)
    client.post("/v1/auth/forgot-password", json={"email": KNOWN})
    monkeypatch.setitem(services_of(app).mail_request_handlers, "password_reset",
                        failing_handler)
    with app.app_context():
        for _ in range(mail_requests.MAX_ATTEMPTS):
            due = db.session.scalar(select(MailRequest.next_attempt_at))
            mail_requests.deliver_due(now=due)
    assert query(lambda s: s.scalar(select(MailRequest.status))) == FAILED


def test_an_unknown_kind_cannot_be_recorded(app):
    with app.app_context(), pytest.raises(ValueError):
        mail_requests.defer("invitation", KNOWN)
