"""The mail flows through every JSON dialect that documents them, over real SMTP.

Each test runs an app that delivers to an aiosmtpd server on loopback, reads the message
that arrived, and uses its link or code through the dialect's own endpoints and envelope.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, OneTimeToken, User
from app.models.types import utcnow
from tests.support.dialects import ADAPTERS, PASSWORD
from tests.support.mail_fixtures import body_of

NEW_PASSWORD = "seven quiet lanterns drifting"
TOKEN_IN_URL = re.compile(r"token=([A-Za-z0-9_-]+)")
CODE_IN_TEXT = re.compile(r"code: (\d{6})")
SUBJECTS = {"reset": "Reset your password", "verify": "Confirm your email address",
            "magic": "Your sign-in link"}
EVENTCHAIN = "/eventchain/v1/auth"


def field_of(dialect: str, body: dict) -> str | None:
    if dialect == "eventchain":
        return body["error"]["details"].get("field")
    return body.get("field")


def assert_error(dialect: str, response, status: int, code: str, field: str | None = None):
    body = response.get_json()
    assert response.status_code == status, body
    assert ADAPTERS[dialect].error_code(body) == code, body
    if field is not None:
        assert field_of(dialect, body) == field, body
    return body


class Mailbox:
    """What the SMTP server received, by subject and recipient."""

    def __init__(self, server) -> None:
        self.server = server

    def wait(self, kind: str, to: str, count: int = 1) -> list[str]:
        """Plain-text bodies of the first `count` messages of a kind sent to `to`."""
        deadline = time.monotonic() + 10
        while True:
            found = [body_of(m) for m in self.server.messages
                     if m["Subject"] == SUBJECTS[kind] and m["To"] == to]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} {kind} message(s) for {to}, not {count}")
            time.sleep(0.05)

    def token(self, kind: str, to: str, index: int = -1) -> str:
        return TOKEN_IN_URL.search(self.wait(kind, to, abs(index) if index < 0
                                             else index + 1)[index]).group(1)

    def code(self, to: str) -> str:
        return CODE_IN_TEXT.search(self.wait("verify", to)[-1]).group(1)

    def count(self, kind: str, to: str) -> int:
        return sum(1 for m in self.server.messages
                   if m["Subject"] == SUBJECTS[kind] and m["To"] == to)


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    return Mailbox(smtp_server)


@pytest.fixture
def api(mail_app):
    return mail_app.test_client()


def sign_up(api, dialect: str, email: str) -> dict:
    """Register through the dialect and sign in; the login body."""
    adapter = ADAPTERS[dialect]
    assert adapter.register(api, email, PASSWORD, {}).status_code == adapter.register_status
    response = adapter.login(api, email, PASSWORD, {})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def in_db(app, fn):
    with app.app_context():
        return fn(db.session)


# --- password reset, per dialect ---------------------------------------------------------

def forgot(api, dialect: str, email):
    paths = {"apiauth": "/api/auth/forgot-password", "apiv1": "/api/v1/auth/forgot-password",
             "eventchain": f"{EVENTCHAIN}/password/reset/request",
             "modernauth": "/v1/auth/forgot-password"}
    return api.post(paths[dialect], json={"email": email})


def reset(api, dialect: str, token: str, password: str, confirm: str | None = None):
    if dialect == "apiauth":
        return api.patch(f"/api/auth/reset-password/{token}",
                         json={"password": password, "passwordConfirm": confirm or password})
    paths = {"apiv1": ("/api/v1/auth/reset-password", "password"),
             "eventchain": (f"{EVENTCHAIN}/password/reset/confirm", "newPassword"),
             "modernauth": ("/v1/auth/reset-password", "new_password")}
    path, field = paths[dialect]
    return api.post(path, json={"token": token, field: password})


RESET_DIALECTS = ["apiauth", "apiv1", "eventchain", "modernauth"]
# The new password's field as each document spells it.
PASSWORD_FIELD = {"apiauth": "password", "apiv1": "password", "eventchain": "newPassword",
                  "modernauth": "new_password"}
# (status, code) of a used or unknown token, and of an expired one.
TOKEN_INVALID = {"eventchain": (400, "AUTH_004")}
TOKEN_EXPIRED = {"eventchain": (400, "AUTH_003")}


@pytest.mark.parametrize("dialect", RESET_DIALECTS)
def test_reset_by_mailed_link_works_once_and_signs_out_everywhere(mail_app, api, mailbox,
                                                                    dialect):
    email = f"{dialect}@example.com"
    signed_in = sign_up(api, dialect, email)
    adapter = ADAPTERS[dialect]
    assert api.get(adapter.me_path, headers=adapter.bearer(signed_in)).status_code == 200

    assert forgot(api, dialect, email).status_code == 200
    token = mailbox.token("reset", email)
    assert reset(api, dialect, token, NEW_PASSWORD).status_code == 200

    # Every session ended: the token from before the reset is refused.
    assert api.get(adapter.me_path, headers=adapter.bearer(signed_in)).status_code == 401
    assert adapter.login(api, email, PASSWORD, {}).status_code == 401
    assert adapter.login(api, email, NEW_PASSWORD, {}).status_code == 200
    # A second use fails.
    status, code = TOKEN_INVALID.get(dialect, (400, "token_invalid"))
    assert_error(dialect, reset(api, dialect, token, "yet another long phrase"), status, code)
    events = in_db(mail_app, lambda s: s.scalars(select(AuditEvent.event)).all())
    assert {"password.reset_requested", "password.reset"} <= set(events)


# How each dialect answers the right password of a user with a second factor: never tokens.
MFA_LOGIN_ANSWERS = {
    "modernauth": (200, lambda body: body["mfa_required"] is True and "tokens" not in body),
    "apiv1": (200, lambda body: body["data"]["mfaRequired"] is True
              and "accessToken" not in body["data"]),
    "apiauth": (403, lambda body: "token" not in body),
    "eventchain": (403, lambda body: body["error"]["code"] == "mfa_required"),
}


@pytest.mark.parametrize("dialect", RESET_DIALECTS)
def test_a_password_reset_never_bypasses_the_second_factor(mail_app, api, mailbox, clock,
                                                           dialect):
    from tests.support.api_mfa import enable_totp

    email = f"{dialect}@example.com"
    sign_up(api, dialect, email)
    enable_totp(mail_app, email, clock)
    assert forgot(api, dialect, email).status_code == 200
    answer = reset(api, dialect, mailbox.token("reset", email), NEW_PASSWORD)
    assert answer.status_code == 200
    body = answer.get_json()
    assert not {"token", "tokens", "accessToken", "access_token"} & set(body)
    assert not {"token", "tokens", "accessToken", "access_token"} & set(
        body.get("data") or {})
    status, no_tokens = MFA_LOGIN_ANSWERS[dialect]
    login = ADAPTERS[dialect].login(api, email, NEW_PASSWORD, {})
    assert login.status_code == status, login.get_json()
    assert no_tokens(login.get_json()), login.get_json()
    if dialect in ("apiauth", "eventchain"):
        assert_error(dialect, login, 403, "mfa_required")
    # The factor is still on: no reset removed it.
    with mail_app.app_context():
        from app.core import accounts
        from app.core.mfa import totp
        assert totp.is_enabled(accounts.find_by_email(email))


@pytest.mark.parametrize("dialect", RESET_DIALECTS)
def test_forgot_password_answers_the_same_for_unknown_addresses(api, mailbox, dialect):
    sign_up(api, dialect, "known@example.com")
    known = forgot(api, dialect, "known@example.com")
    unknown = forgot(api, dialect, "nobody@example.com")
    assert (known.status_code, known.get_json()) == (unknown.status_code, unknown.get_json())
    mailbox.wait("reset", "known@example.com")
    assert mailbox.count("reset", "nobody@example.com") == 0


@pytest.mark.parametrize("dialect", RESET_DIALECTS)
def test_forgot_password_bad_input_names_the_field(api, dialect):
    assert_error(dialect, api.post(
        {"apiauth": "/api/auth/forgot-password", "apiv1": "/api/v1/auth/forgot-password",
         "eventchain": f"{EVENTCHAIN}/password/reset/request",
         "modernauth": "/v1/auth/forgot-password"}[dialect], json={}), 400, "validation",
        "email")
    assert_error(dialect, forgot(api, dialect, "not an address"), 400, "validation", "email")
    assert_error(dialect, forgot(api, dialect, 42), 400, "validation", "email")


@pytest.mark.parametrize("dialect", RESET_DIALECTS)
def test_reset_refuses_weak_expired_and_foreign_tokens(mail_app, api, mailbox, dialect):
    email = f"{dialect}@example.com"
    sign_up(api, dialect, email)
    verification = mailbox.token("verify", email)
    forgot(api, dialect, email)
    token = mailbox.token("reset", email)

    weak = "weak_password" if dialect != "eventchain" else "AUTH_006"
    assert_error(dialect, reset(api, dialect, token, "password"), 400, weak,
                 PASSWORD_FIELD[dialect])
    # A verification link is no reset link.
    status, code = TOKEN_INVALID.get(dialect, (400, "token_invalid"))
    assert_error(dialect, reset(api, dialect, verification, NEW_PASSWORD), status, code)
    # The refused weak password did not use the token up; expiry does.
    in_db(mail_app, lambda s: (s.execute(update(OneTimeToken).where(
        OneTimeToken.purpose == "password_reset").values(
        expires_at=utcnow() - timedelta(seconds=1))), s.commit()))
    status, code = TOKEN_EXPIRED.get(dialect, (400, "token_expired"))
    assert_error(dialect, reset(api, dialect, token, NEW_PASSWORD), status, code)


def test_apiauth_reset_needs_a_matching_confirmation(api, mailbox):
    sign_up(api, "apiauth", "ada@example.com")
    forgot(api, "apiauth", "ada@example.com")
    token = mailbox.token("reset", "ada@example.com")
    assert_error("apiauth", reset(api, "apiauth", token, NEW_PASSWORD, "something else"), 400,
                 "validation", "passwordConfirm")
    assert_error("apiauth", api.patch(f"/api/auth/reset-password/{token}",
                                      json={"password": NEW_PASSWORD}), 400, "validation",
                 "passwordConfirm")
    assert reset(api, "apiauth", token, NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize("dialect", RESET_DIALECTS)
def test_reset_bad_input_names_the_field(api, dialect):
    if dialect == "apiauth":
        response = api.patch("/api/auth/reset-password/x", data="{",
                             content_type="application/json")
        assert_error(dialect, response, 400, "validation", "body")
        return
    path = {"apiv1": "/api/v1/auth/reset-password",
            "eventchain": f"{EVENTCHAIN}/password/reset/confirm",
            "modernauth": "/v1/auth/reset-password"}[dialect]
    assert_error(dialect, api.post(path, json={PASSWORD_FIELD[dialect]: NEW_PASSWORD}), 400,
                 "validation", "token")
    assert_error(dialect, api.post(path, json={"token": 5, PASSWORD_FIELD[dialect]: "x"}), 400,
                 "validation", "token")


def test_eventchain_password_reset_is_limited_per_email_not_per_ip(app_factory):
    client = app_factory().test_client()
    path = f"{EVENTCHAIN}/password/reset/request"
    for n in range(3):
        response = client.post(path, json={"email": "ada@example.com"},
                               environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
    refused = client.post(path, json={"email": "ADA@example.com"},
                          environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert_error("eventchain", refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) > 0
    assert client.post(path, json={"email": "bob@example.com"}).status_code == 200


def test_modernauth_forgot_password_allows_five_an_hour(app_factory):
    client = app_factory().test_client()
    for _ in range(5):
        assert client.post("/v1/auth/forgot-password",
                           json={"email": "a@example.com"}).status_code == 200
    refused = client.post("/v1/auth/forgot-password", json={"email": "a@example.com"})
    assert refused.status_code == 429 and refused.headers["X-RateLimit-Limit"] == "5"


# --- email verification -------------------------------------------------------------------

@pytest.mark.parametrize("dialect", RESET_DIALECTS)
def test_the_verification_mail_of_a_json_sign_up_arrives(api, mailbox, dialect):
    # Registration opens SAVEPOINTs after queueing the message; the worker must still be
    # woken by the request's real commit.
    sign_up(api, dialect, f"{dialect}@example.com")
    assert "code:" in mailbox.wait("verify", f"{dialect}@example.com")[0]


def test_apiv1_verifies_by_link_once(api, mailbox):
    sign_up(api, "apiv1", "ada@example.com")
    token = mailbox.token("verify", "ada@example.com")
    response = api.post("/api/v1/auth/verify-email", json={"token": token})
    assert response.status_code == 200
    assert response.get_json()["data"]["isEmailVerified"] is True
    assert_error("apiv1", api.post("/api/v1/auth/verify-email", json={"token": token}), 400,
                 "token_invalid", "token")
    assert_error("apiv1", api.post("/api/v1/auth/verify-email", json={}), 400, "validation",
                 "token")


def test_apiv1_resend_verification_answers_the_same_for_anyone(api, mailbox):
    sign_up(api, "apiv1", "ada@example.com")
    mailbox.wait("verify", "ada@example.com")
    answers = [api.post("/api/v1/auth/resend-verification", json={"email": email})
               for email in ("ada@example.com", "nobody@example.com")]
    assert answers[0].status_code == answers[1].status_code == 200
    assert answers[0].get_json() == answers[1].get_json()
    mailbox.wait("verify", "ada@example.com", count=2)
    assert mailbox.count("verify", "nobody@example.com") == 0
    assert_error("apiv1", api.post("/api/v1/auth/resend-verification", json={"email": "x"}),
                 400, "validation", "email")


def test_apiv1_email_otp_verifies_and_a_wrong_code_names_otp(mail_app, api, mailbox):
    body = sign_up(api, "apiv1", "ada@example.com")
    mailbox.wait("verify", "ada@example.com")
    bearer = ADAPTERS["apiv1"].bearer(body)
    assert api.post("/api/v1/auth/otp/send", json={"method": "email"},
                    headers=bearer).status_code == 200
    mailbox.wait("verify", "ada@example.com", count=2)
    code = mailbox.code("ada@example.com")
    wrong = "000000" if code != "000000" else "111111"
    assert_error("apiv1", api.post("/api/v1/auth/verify-email-otp",
                                   json={"email": "ada@example.com", "otp": wrong}),
                 400, "token_invalid", "otp")
    # An unknown address answers like a wrong code.
    assert_error("apiv1", api.post("/api/v1/auth/verify-email-otp",
                                   json={"email": "nobody@example.com", "otp": code}),
                 400, "token_invalid", "otp")
    ok = api.post("/api/v1/auth/verify-email-otp", json={"email": "ada@example.com",
                                                         "otp": code})
    assert ok.status_code == 200 and ok.get_json()["data"]["isEmailVerified"] is True
    assert_error("apiv1", api.post("/api/v1/auth/otp/send", json={"method": "email"},
                                   headers=bearer), 400, "already_verified")


def test_apiv1_email_otp_answers_every_address_that_cannot_verify_like_a_wrong_code(
        smtp_server, smtp_app_factory, mailbox):
    app = smtp_app_factory(smtp_server.port, API_RATE_LIMITS={"apiv1.code": "100 per minute"})
    api = app.test_client()

    def attempt(email, otp):
        response = api.post("/api/v1/auth/verify-email-otp", json={"email": email, "otp": otp})
        return response.status_code, response.get_json()

    for email in ("ada", "verified", "codeless", "expired"):
        sign_up(api, "apiv1", f"{email}@example.com")
    code = {email: mailbox.code(f"{email}@example.com")
            for email in ("ada", "verified", "codeless", "expired")}
    assert attempt("verified@example.com", code["verified"])[0] == 200
    in_db(app, lambda s: (s.execute(update(OneTimeToken).where(
        OneTimeToken.address == "codeless@example.com").values(used_at=utcnow())),
        s.execute(update(OneTimeToken).where(OneTimeToken.address == "expired@example.com")
                  .values(expires_at=utcnow() - timedelta(seconds=1))), s.commit()))
    wrong = next(c for c in ("000000", "111111", "222222", "333333", "444444")
                 if c not in code.values())

    reference = attempt("ada@example.com", wrong)
    assert reference == (400, {"message": "That code is not correct.", "error": "token_invalid",
                               "status": 400, "field": "otp"})
    for email in ("nobody", "verified", "codeless", "expired"):
        assert attempt(f"{email}@example.com", wrong) == reference, email
        # Another account's real code is just as wrong here.
        assert attempt(f"{email}@example.com", code["ada"]) == reference, email
    # Only the right code learns that it expired (which tells nothing to anyone without it).
    assert attempt("expired@example.com", code["expired"]) == (400, {
        "message": "This link or code has expired. Ask for a new one.",
        "error": "token_expired", "status": 400, "field": "otp"})
    assert attempt("ada@example.com", code["ada"])[0] == 200


def test_apiv1_otp_send_bad_input(api):
    body = sign_up(api, "apiv1", "ada@example.com")
    bearer = ADAPTERS["apiv1"].bearer(body)
    assert_error("apiv1", api.post("/api/v1/auth/otp/send", json={"method": "pigeon"},
                                   headers=bearer), 400, "validation", "method")
    assert_error("apiv1", api.post("/api/v1/auth/otp/send", json={"method": "sms"},
                                   headers=bearer), 400, "validation", "phoneNumber")
    assert_error("apiv1", api.post("/api/v1/auth/otp/send", json={"method": "email"}), 401,
                 "unauthenticated")


def test_modernauth_send_verification_and_verify_email(api, mailbox):
    body = sign_up(api, "modernauth", "ada@example.com")
    mailbox.wait("verify", "ada@example.com")
    bearer = ADAPTERS["modernauth"].bearer(body)
    assert api.post("/v1/auth/send-verification", headers=bearer).status_code == 200
    token = mailbox.token("verify", "ada@example.com", index=1)
    response = api.post("/v1/auth/verify-email", json={"token": token})
    assert response.status_code == 200 and response.get_json()["is_email_verified"] is True
    assert_error("modernauth", api.post("/v1/auth/send-verification", headers=bearer), 400,
                 "already_verified")
    assert_error("modernauth", api.post("/v1/auth/verify-email", json={"token": token}), 400,
                 "token_invalid", "token")
    assert_error("modernauth", api.post("/v1/auth/send-verification"), 401, "unauthenticated")


def test_a_throttled_resend_is_refused_with_429_when_signed_in(app_factory):
    client = app_factory(MAIL_SEND_LIMIT="1 per hour", EMAIL_VERIFICATION=False).test_client()
    body = sign_up(client, "modernauth", "ada@example.com")
    bearer = ADAPTERS["modernauth"].bearer(body)
    assert client.post("/v1/auth/send-verification", headers=bearer).status_code == 200
    refused = client.post("/v1/auth/send-verification", headers=bearer)
    assert_error("modernauth", refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) > 0


def test_eventchain_verify_send_and_confirm(api, mailbox):
    assert ADAPTERS["eventchain"].register(api, "ada@example.com", PASSWORD, {}).status_code \
        == 201
    first = mailbox.token("verify", "ada@example.com")
    known = api.post(f"{EVENTCHAIN}/verify/send", json={"email": "ada@example.com"})
    unknown = api.post(f"{EVENTCHAIN}/verify/send", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_json() == unknown.get_json()
    second = mailbox.token("verify", "ada@example.com", index=1)
    # The resend retired the first link.
    assert_error("eventchain", api.post(f"{EVENTCHAIN}/verify/confirm", json={"token": first}),
                 400, "AUTH_004")
    confirmed = api.post(f"{EVENTCHAIN}/verify/confirm", json={"token": second})
    assert confirmed.status_code == 200
    assert confirmed.get_json()["data"]["user"]["isVerified"] is True
    assert_error("eventchain", api.post(f"{EVENTCHAIN}/verify/confirm", json={}), 400,
                 "validation", "token")


BAD_EMAILS = [({}, "email"), ({"email": "not an address"}, "email"), ({"email": 42}, "email"),
              ({"email": ["ada@example.com"]}, "email"), ({"email": None}, "email")]


@pytest.mark.parametrize("body, field", BAD_EMAILS)
def test_eventchain_verify_send_bad_input_names_the_field(api, mailbox, body, field):
    assert_error("eventchain", api.post(f"{EVENTCHAIN}/verify/send", json=body), 400,
                 "validation", field)


def test_eventchain_verify_send_refuses_a_body_that_is_no_json_object(api):
    assert_error("eventchain", api.post(f"{EVENTCHAIN}/verify/send", data="{",
                                        content_type="application/json"), 400, "validation",
                 "body")
    assert_error("eventchain", api.post(f"{EVENTCHAIN}/verify/send", json=["ada@example.com"]),
                 400, "validation", "body")


@pytest.mark.parametrize("body, field", [({}, "token"), ({"token": 5}, "token"),
                                         ({"token": None}, "token"),
                                         ({"token": ["x"]}, "token"),
                                         ({"token": "x", "extra": 1}, "extra")])
def test_modernauth_verify_email_bad_input_names_the_field(api, body, field):
    assert_error("modernauth", api.post("/v1/auth/verify-email", json=body), 400, "validation",
                 field)


def test_modernauth_verify_email_refuses_a_body_that_is_no_json_object(api):
    assert_error("modernauth", api.post("/v1/auth/verify-email", data="not json",
                                        content_type="application/json"), 400, "validation",
                 "body")


@pytest.mark.parametrize("body, status, code, field", [
    ({"email": "ada@example.com"}, 400, "validation", "otp"),
    ({"otp": "123456"}, 400, "validation", "email"),
    ({"email": "ada@example.com", "otp": 123456}, 400, "validation", "otp"),
    ({"email": "not an address", "otp": "123456"}, 400, "validation", "email"),
    ({"email": 7, "otp": "123456"}, 400, "validation", "email"),
    ({"email": "ada@example.com", "otp": "12ab56"}, 400, "token_invalid", "otp"),
    ({"email": "ada@example.com", "otp": "12345"}, 400, "token_invalid", "otp"),
])
def test_apiv1_verify_email_otp_bad_input_names_the_field(mail_app, api, mailbox, body, status,
                                                         code, field):
    sign_up(api, "apiv1", "ada@example.com")
    answer = assert_error("apiv1", api.post("/api/v1/auth/verify-email-otp", json=body),
                          status, code, field)
    if code == "token_invalid":
        assert answer["message"] == "Enter the 6-digit code."
    # Nothing was spent or verified by the refused input.
    assert in_db(mail_app, lambda s: (s.scalar(select(OneTimeToken.attempts).where(
        OneTimeToken.kind == "code")), s.scalar(select(User.email_verified)))) == (0, False)


@pytest.mark.parametrize("required", [True, False])
def test_eventchain_refuses_unverified_logins_with_auth_002_when_required(app_factory,
                                                                        required):
    client = app_factory(EVENTCHAIN_REQUIRE_VERIFIED_EMAIL=required).test_client()
    adapter = ADAPTERS["eventchain"]
    adapter.register(client, "ada@example.com", PASSWORD, {})
    # A wrong password still says only that: the verification state is not revealed.
    assert_error("eventchain", adapter.login(client, "ada@example.com", "wrong password x", {}),
                 401, "AUTH_001")
    response = adapter.login(client, "ada@example.com", PASSWORD, {})
    if required:
        assert_error("eventchain", response, 403, "AUTH_002")
    else:
        assert response.status_code == 200


def test_eventchain_lets_a_verified_account_in_when_required(app_factory):
    app = app_factory(EVENTCHAIN_REQUIRE_VERIFIED_EMAIL=True)
    client = app.test_client()
    adapter = ADAPTERS["eventchain"]
    adapter.register(client, "ada@example.com", PASSWORD, {})
    in_db(app, lambda s: (s.execute(update(User).values(email_verified=True)), s.commit()))
    assert adapter.login(client, "ada@example.com", PASSWORD, {}).status_code == 200


# --- magic links ------------------------------------------------------------------------------

def test_modernauth_magic_link_signs_in_once(api, mailbox):
    sign_up(api, "modernauth", "ada@example.com")
    assert api.post("/v1/auth/magic-link/send",
                    json={"email": "ada@example.com"}).status_code == 200
    token = mailbox.token("magic", "ada@example.com")
    response = api.post("/v1/auth/magic-link/verify", json={"token": token})
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["email"] == "ada@example.com" and body["tokens"]["access_token"]
    me = api.get("/v1/auth/me", headers=ADAPTERS["modernauth"].bearer(body))
    assert me.status_code == 200
    sessions = api.get("/v1/sessions", headers=ADAPTERS["modernauth"].bearer(body)).get_json()
    assert any(s["current"] and s["amr"] == ["otp"] for s in sessions["sessions"])
    assert_error("modernauth", api.post("/v1/auth/magic-link/verify", json={"token": token}),
                 400, "token_invalid", "token")


def test_modernauth_magic_link_registers_only_when_allowed(mail_app, api, mailbox):
    known_user = sign_up(api, "modernauth", "ada@example.com")
    assert known_user
    known = api.post("/v1/auth/magic-link/send", json={"email": "ada@example.com"})
    unknown = api.post("/v1/auth/magic-link/send", json={"email": "new@example.com"})
    assert (known.status_code, known.get_json()) == (unknown.status_code, unknown.get_json())
    token = mailbox.token("magic", "new@example.com")
    assert_error("modernauth", api.post("/v1/auth/magic-link/verify", json={"token": token}),
                 403, "registration_not_allowed", "allow_registration")
    assert in_db(mail_app, lambda s: s.scalar(
        select(User).where(User.email == "new@example.com"))) is None
    created = api.post("/v1/auth/magic-link/verify",
                       json={"token": token, "allow_registration": True})
    assert created.status_code == 200
    assert created.get_json()["user"]["is_email_verified"] is True


def test_only_the_newest_sign_up_link_creates_the_account_and_the_others_die(mail_app, api,
                                                                             mailbox):
    for _ in range(2):
        assert api.post("/v1/auth/magic-link/send",
                        json={"email": "new@example.com"}).status_code == 200
    first = mailbox.token("magic", "new@example.com", index=0)
    second = mailbox.token("magic", "new@example.com", index=1)
    assert_error("modernauth", api.post("/v1/auth/magic-link/verify", json={
        "token": first, "allow_registration": True}), 400, "token_invalid", "token")
    created = api.post("/v1/auth/magic-link/verify",
                       json={"token": second, "allow_registration": True})
    assert created.status_code == 200, created.get_json()
    # The older link neither signs in to the new account nor makes another one.
    assert_error("modernauth", api.post("/v1/auth/magic-link/verify", json={
        "token": first, "allow_registration": True}), 400, "token_invalid", "token")
    assert in_db(mail_app, lambda s: s.scalars(
        select(User.id).where(User.email == "new@example.com")).all()) == [
        uuid.UUID(created.get_json()["user"]["id"])]


def test_modernauth_magic_link_bad_input_and_limit(app_factory):
    client = app_factory().test_client()
    assert_error("modernauth", client.post("/v1/auth/magic-link/send", json={}), 400,
                 "validation", "email")
    assert_error("modernauth", client.post("/v1/auth/magic-link/verify",
                                           json={"token": "x", "allow_registration": "yes"}),
                 400, "validation", "allow_registration")
    assert_error("modernauth", client.post("/v1/auth/magic-link/verify",
                                           json={"token": "not-a-token"}),
                 400, "token_invalid", "token")
    for _ in range(2):
        assert client.post("/v1/auth/magic-link/send",
                           json={"email": "a@example.com"}).status_code == 200
    refused = client.post("/v1/auth/magic-link/send", json={"email": "a@example.com"})
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
