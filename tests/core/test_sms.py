"""Codes by SMS: the outbox backend, the HTTP gateway backend, and phone verification
through apiv1 (`otp/send` with `method: sms`, `verify-sms-otp`)."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from app.core.mail import outbox, sms
from app.extensions import db
from app.models import AuditEvent, OneTimeToken, OutboundSms, User
from app.models.mail import QUEUED, SENT
from app.models.types import utcnow
from tests.support.dialects import ADAPTERS, PASSWORD
from tests.support.mail_fixtures import free_port

PHONE = "+15550001111"
CODE_IN_TEXT = re.compile(r"\b(\d{6})\b")


class Gateway:
    """An HTTP SMS gateway on loopback that records what it is sent."""

    def __init__(self, status: int = 200) -> None:
        self.received: list[tuple[dict, dict]] = []
        self.status = status
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers["Content-Length"])
                gateway.received.append((dict(self.headers),
                                         json.loads(self.rfile.read(length))))
                self.send_response(gateway.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int = 1, timeout: float = 10) -> list[tuple[dict, dict]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"gateway got {len(self.received)} of {count}")
            time.sleep(0.05)
        return self.received

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    server = Gateway()
    yield server
    server.stop()


@pytest.fixture
def gateway_app(app_factory, gateway):
    app = app_factory(SMS_BACKEND="http", SMS_HTTP_URL=gateway.url,
                      SMS_HTTP_AUTHORIZATION="Bearer gateway-secret")
    yield app
    outbox.stop_worker(app)


def signed_in(client, email="ada@example.com", phone=PHONE) -> dict:
    adapter = ADAPTERS["apiv1"]
    registered = client.post("/api/v1/auth/register", json={
        "email": email, "password": PASSWORD, "phoneNumber": phone})
    assert registered.status_code == 201, registered.get_json()
    return adapter.bearer(registered.get_json())


def texts(app) -> list[OutboundSms]:
    with app.app_context():
        return db.session.scalars(select(OutboundSms).order_by(OutboundSms.created_at)).all()


def send_code(client, bearer):
    return client.post("/api/v1/auth/otp/send", json={"method": "sms"}, headers=bearer)


def verify(client, phone, otp):
    return client.post("/api/v1/auth/verify-sms-otp", json={"phoneNumber": phone, "otp": otp})


def test_a_texted_code_verifies_the_phone_once(app, client):
    bearer = signed_in(client)
    assert send_code(client, bearer).status_code == 200
    [text] = texts(app)
    assert text.to == PHONE and text.status == QUEUED  # the outbox backend keeps it
    code = CODE_IN_TEXT.search(text.text).group(1)

    wrong = verify(client, PHONE, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 400
    assert wrong.get_json()["error"] == "token_invalid" and wrong.get_json()["field"] == "otp"
    response = verify(client, PHONE, code)
    assert response.status_code == 200
    assert response.get_json()["data"]["isPhoneVerified"] is True
    assert verify(client, PHONE, code).get_json()["error"] == "token_invalid"
    with app.app_context():
        events = db.session.scalars(select(AuditEvent.event)).all()
    assert {"phone.code_sent", "phone.verified"} <= set(events)


def test_an_unknown_number_answers_like_a_wrong_code(client):
    bearer = signed_in(client)
    send_code(client, bearer)
    body = verify(client, "+15559999999", "123456").get_json()
    assert body["error"] == "token_invalid" and body["field"] == "otp"


def test_a_number_that_cannot_verify_answers_exactly_like_a_wrong_code(app_factory):
    app = app_factory(API_RATE_LIMITS={"apiv1.code": "100 per minute"})
    client = app.test_client()
    numbers = {name: f"+1555000{n:04d}" for n, name in enumerate(
        ("live", "verified", "never_sent", "expired", "unknown"))}
    codes = {}
    for name in ("live", "verified", "never_sent", "expired"):
        bearer = signed_in(client, f"{name}@example.com", numbers[name])
        if name != "never_sent":
            assert send_code(client, bearer).status_code == 200
            codes[name] = CODE_IN_TEXT.search(texts(app)[-1].text).group(1)
    assert verify(client, numbers["verified"], codes["verified"]).status_code == 200
    with app.app_context():
        db.session.execute(update(OneTimeToken).where(
            OneTimeToken.address == numbers["expired"])
            .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    wrong = next(c for c in ("000000", "111111", "222222", "333333")
                 if c not in codes.values())

    def attempt(name, otp):
        response = verify(client, numbers[name], otp)
        return response.status_code, response.get_json()

    reference = attempt("live", wrong)
    assert reference == (400, {"message": "That code is not correct.", "error": "token_invalid",
                               "status": 400, "field": "otp"})
    for name in ("verified", "never_sent", "expired", "unknown"):
        assert attempt(name, wrong) == reference, name
        assert attempt(name, codes["live"]) == reference, name
    assert attempt("expired", codes["expired"]) == (400, {
        "message": "This link or code has expired. Ask for a new one.",
        "error": "token_expired", "status": 400, "field": "otp"})
    assert attempt("live", codes["live"])[0] == 200


def test_changing_the_number_voids_the_code_and_the_verification(app, client):
    bearer = signed_in(client)
    send_code(client, bearer)
    code = CODE_IN_TEXT.search(texts(app)[0].text).group(1)
    assert client.put("/api/v1/auth/profile", json={"phoneNumber": "+15552223333"},
                      headers=bearer).status_code == 200
    assert verify(client, PHONE, code).get_json()["error"] == "token_invalid"

    send_code(client, bearer)
    code = CODE_IN_TEXT.search(texts(app)[-1].text).group(1)
    assert verify(client, "+15552223333", code).status_code == 200
    client.put("/api/v1/auth/profile", json={"phoneNumber": "+15554445555"}, headers=bearer)
    with app.app_context():
        assert db.session.scalar(select(User.phone_verified)) is False


def test_verify_sms_otp_bad_input_names_the_field(client):
    for body, field in (({"otp": "123456"}, "phoneNumber"),
                        ({"phoneNumber": PHONE}, "otp"),
                        ({"phoneNumber": "call me", "otp": "123456"}, "phoneNumber"),
                        ({"phoneNumber": PHONE, "otp": 123456}, "otp")):
        response = client.post("/api/v1/auth/verify-sms-otp", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["field"] == field, body
    assert verify(client, PHONE, "12ab56").get_json()["field"] == "otp"


def test_codes_to_one_number_are_limited(app_factory):
    client = app_factory(SMS_SEND_LIMIT="2 per hour").test_client()
    bearer = signed_in(client)
    assert send_code(client, bearer).status_code == 200
    assert send_code(client, bearer).status_code == 200
    refused = send_code(client, bearer)
    assert refused.status_code == 429 and refused.get_json()["error"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0


def test_the_http_backend_posts_the_template_with_the_credential(gateway_app, gateway):
    client = gateway_app.test_client()
    bearer = signed_in(client)
    assert send_code(client, bearer).status_code == 200
    [(headers, body)] = gateway.wait()
    assert headers["Authorization"] == "Bearer gateway-secret"
    assert headers["Content-Type"] == "application/json"
    assert body["to"] == PHONE and CODE_IN_TEXT.search(body["text"])
    deadline = time.monotonic() + 5
    while texts(gateway_app)[0].status != SENT and time.monotonic() < deadline:
        time.sleep(0.05)
    assert texts(gateway_app)[0].status == SENT


def test_the_template_escapes_what_it_carries(app_factory):
    app = app_factory(SMS_HTTP_TEMPLATE='{"msisdn": "{to}", "body": "{text}", "x": 1}')
    with app.app_context():
        body = json.loads(sms.request_body("+1555", 'say "hi"\nnow'))
    assert body == {"msisdn": "+1555", "body": 'say "hi"\nnow', "x": 1}


def test_a_dead_gateway_fails_nothing_and_the_text_is_retried(app_factory):
    port = free_port()  # nothing listens here
    app = app_factory(SMS_BACKEND="http", SMS_HTTP_URL=f"http://127.0.0.1:{port}/send",
                      SMS_HTTP_AUTHORIZATION="Bearer gateway-secret")
    outbox.stop_worker(app)  # deliver by hand, to watch each attempt
    client = app.test_client()
    bearer = signed_in(client)
    assert send_code(client, bearer).status_code == 200
    with app.app_context():
        assert sms.deliver_due() == {"sent": 0, "failed": 1}
        row = db.session.scalar(select(OutboundSms))
        assert row.status == QUEUED and row.attempts == 1
        assert row.next_attempt_at > utcnow()
        assert "gateway-secret" not in row.last_error
        assert sms.deliver_due() == {"sent": 0, "failed": 0}  # not due again yet

    server = Gateway()
    try:
        with app.app_context():
            app.config["SMS_HTTP_URL"] = server.url
            row = db.session.scalar(select(OutboundSms))
            row.next_attempt_at = utcnow()
            db.session.commit()
            assert sms.deliver_due() == {"sent": 1, "failed": 0}
        assert len(server.received) == 1
    finally:
        server.stop()


def test_the_gateway_saying_no_is_a_failed_attempt(app_factory):
    server = Gateway(status=500)
    try:
        app = app_factory(SMS_BACKEND="http", SMS_HTTP_URL=server.url)
        outbox.stop_worker(app)
        client = app.test_client()
        send_code(client, signed_in(client))
        with app.app_context():
            assert sms.deliver_due() == {"sent": 0, "failed": 1}
            assert db.session.scalar(select(OutboundSms.last_error)) == "gateway answered 500"
    finally:
        server.stop()


def test_the_outbox_page_lists_texts_in_development(app, client):
    bearer = signed_in(client)
    send_code(client, bearer)
    page = client.get("/dev/outbox").get_data(as_text=True)
    assert PHONE in page and "Your Tessera verification code" in page
