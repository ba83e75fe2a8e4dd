"""The WebAuthn JSON the hosted pages call (/webauthn/...), driven by a software
authenticator: adding a passkey, passwordless sign-in, a passkey as the second factor,
CSRF in the header, bad bodies, re-authentication."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from app.core import acr
from app.models import WebAuthnCredential
from tests.conftest import login
from tests.support.mfa_pages import (
    age_sessions,
    enrol_passkey,
    meta_csrf,
    newest_session,
    password_step,
    post_json,
)
from tests.support.webauthn_authenticator import SoftwareAuthenticator


@pytest.fixture
def person(make_user):
    return make_user(email_verified=True)


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


# --- adding a passkey ----------------------------------------------------------------------

def test_a_signed_in_person_adds_a_passkey_with_a_name(client, person, query):
    login(client, person["email"])
    csrf = meta_csrf(client, "/account/security")
    options = post_json(client, "/webauthn/register/begin", csrf=csrf)
    assert options.status_code == 200
    public_key = options.get_json()["publicKey"]
    assert public_key["rp"]["id"] == "localhost"
    assert public_key["authenticatorSelection"]["residentKey"] == "preferred"
    authenticator = SoftwareAuthenticator("http://localhost")
    done = post_json(client, "/webauthn/register/finish",
                     {"credential": authenticator.create(options.get_json()),
                      "name": "Work laptop"}, csrf=csrf)
    assert done.status_code == 200 and done.get_json() == {"redirect": "/account/security"}
    row = query(lambda s: s.scalar(select(WebAuthnCredential)))
    assert row.name == "Work laptop"
    assert "Passkey “Work laptop” added." in client.get("/account/security").get_data(
        as_text=True)


@pytest.mark.parametrize("path", ["/webauthn/register/begin", "/webauthn/register/finish",
                                  "/webauthn/login/begin", "/webauthn/login/finish",
                                  "/webauthn/mfa/begin", "/webauthn/mfa/finish"])
def test_every_ceremony_endpoint_refuses_a_request_without_the_csrf_header(client, person,
                                                                           path):
    login(client, person["email"])
    response = post_json(client, path, {})
    assert response.status_code == 400
    assert response.get_json()["error"] == "csrf_failed"
    wrong = post_json(client, path, {}, csrf="not-the-token")
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "csrf_failed"


@pytest.mark.parametrize("path", ["/webauthn/register/begin", "/webauthn/register/finish",
                                  "/webauthn/reauth/begin", "/webauthn/reauth/finish"])
def test_account_ceremonies_need_a_signed_in_person(client, path):
    csrf = meta_csrf(client)
    response = post_json(client, path, csrf=csrf)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthenticated"
    assert response.get_json()["redirect"] == "/login"


def test_registration_on_an_old_session_points_to_the_confirm_prompt(app, client, person):
    login(client, person["email"])
    csrf = meta_csrf(client, "/account/security")
    age_sessions(app, person)
    response = post_json(client, "/webauthn/register/begin", csrf=csrf)
    assert response.status_code == 401
    body = response.get_json()
    assert body["error"] == "reauthentication_required"
    assert body["redirect"] == "/account/security/confirm?next=/account/security"


@pytest.mark.parametrize("body, status, error", [
    ({}, 400, "validation"),
    ({"credential": "not json"}, 400, "validation"),
    ({"credential": {"id": "abc", "response": {}}}, 400, "passkey_invalid"),
    ({"credential": {"id": "abc"}, "name": "x" * 101}, 400, "validation"),
])
def test_registration_finish_refuses_bad_bodies(client, person, query, body, status, error):
    login(client, person["email"])
    csrf = meta_csrf(client, "/account/security")
    post_json(client, "/webauthn/register/begin", csrf=csrf)
    response = post_json(client, "/webauthn/register/finish", body, csrf=csrf)
    assert response.status_code == status and response.get_json()["error"] == error
    assert query(lambda s: s.scalar(select(WebAuthnCredential))) is None


def test_a_body_that_is_not_a_json_object_is_a_400(client, person):
    login(client, person["email"])
    csrf = meta_csrf(client, "/account/security")
    response = client.post("/webauthn/register/finish", data="[1, 2]",
                           content_type="application/json", headers={"X-CSRFToken": csrf})
    assert response.status_code == 400 and response.get_json()["field"] == "body"


# --- passwordless sign-in ------------------------------------------------------------------

def test_a_discoverable_passkey_signs_in_without_a_password(app, client, person):
    authenticator, _ = enrol_passkey(app, person)
    csrf = meta_csrf(client)
    options = post_json(client, "/webauthn/login/begin", csrf=csrf).get_json()
    assert options["publicKey"]["userVerification"] == "required"
    assert not options["publicKey"].get("allowCredentials")
    response = post_json(client, "/webauthn/login/finish",
                         {"credential": authenticator.get(options),
                          "next": "/account/sessions"}, csrf=csrf)
    assert response.status_code == 200
    assert response.get_json() == {"redirect": "/account/sessions"}
    assert signed_in(client)
    session = newest_session(app, person)
    assert session.amr == ["hwk", "mfa"] and session.acr == acr.MFA


def test_passwordless_sign_in_only_follows_a_local_next(app, client, person):
    authenticator, _ = enrol_passkey(app, person)
    csrf = meta_csrf(client)
    options = post_json(client, "/webauthn/login/begin", csrf=csrf).get_json()
    response = post_json(client, "/webauthn/login/finish",
                         {"credential": authenticator.get(options),
                          "next": "https://evil.example/"}, csrf=csrf)
    assert response.get_json() == {"redirect": "/account"}


def test_a_passkey_without_user_verification_cannot_sign_in_alone(app, client, person):
    authenticator, _ = enrol_passkey(app, person)
    authenticator.user_verified = False
    csrf = meta_csrf(client)
    options = post_json(client, "/webauthn/login/begin", csrf=csrf).get_json()
    response = post_json(client, "/webauthn/login/finish",
                         {"credential": authenticator.get(options)}, csrf=csrf)
    assert response.status_code == 400 and response.get_json()["error"] == "passkey_invalid"
    assert not signed_in(client)


def test_a_replayed_passwordless_assertion_is_refused(app, client, person):
    authenticator, _ = enrol_passkey(app, person)
    csrf = meta_csrf(client)
    options = post_json(client, "/webauthn/login/begin", csrf=csrf).get_json()
    credential = authenticator.get(options)
    assert post_json(client, "/webauthn/login/finish", {"credential": credential},
                     csrf=csrf).status_code == 200
    other = app.test_client()
    other_csrf = meta_csrf(other)
    again = post_json(other, "/webauthn/login/finish", {"credential": credential},
                      csrf=other_csrf)
    assert again.status_code == 400
    assert again.get_json()["error"] == "passkey_challenge_invalid"


def test_the_login_page_offers_a_passkey_button_with_the_next_page(client):
    html = client.get("/login?next=/account/sessions").get_data(as_text=True)
    assert 'data-webauthn="authenticate"' in html and 'data-next="/account/sessions"' in html
    assert '<meta name="csrf-token"' in html


# --- a passkey as the second factor --------------------------------------------------------

def test_a_passkey_is_the_second_factor_after_the_password(app, client, person):
    authenticator, _ = enrol_passkey(app, person)
    password_step(client, person["email"], next_url="/account/sessions")
    html = client.get("/mfa").get_data(as_text=True)
    assert "Use a passkey" in html
    csrf = meta_csrf(client, "/mfa")
    options = post_json(client, "/webauthn/mfa/begin", csrf=csrf).get_json()
    assert options["publicKey"]["allowCredentials"]
    response = post_json(client, "/webauthn/mfa/finish",
                         {"credential": authenticator.get(options), "remember": True},
                         csrf=csrf)
    assert response.status_code == 200
    assert response.get_json() == {"redirect": "/account/sessions"}
    assert client.get_cookie("tessera_trusted_device") is not None
    session = newest_session(app, person)
    assert session.amr == ["pwd", "hwk", "mfa"] and session.acr == acr.MFA


def test_the_second_factor_passkey_endpoints_need_a_pending_login(client):
    csrf = meta_csrf(client)
    for path in ("/webauthn/mfa/begin", "/webauthn/mfa/finish"):
        response = post_json(client, path, {"credential": {"id": "x"}}, csrf=csrf)
        assert response.status_code == 401
        assert response.get_json()["error"] == "mfa_challenge_invalid"
        assert response.get_json()["redirect"] == "/login"


def test_another_person_s_passkey_is_a_spent_attempt(app, client, person, make_user):
    enrol_passkey(app, person)
    stranger_key, _ = enrol_passkey(app, make_user())
    password_step(client, person["email"])
    csrf = meta_csrf(client, "/mfa")
    options = post_json(client, "/webauthn/mfa/begin", csrf=csrf).get_json()
    response = post_json(client, "/webauthn/mfa/finish",
                         {"credential": stranger_key.get(options, ignore_allow_list=True)},
                         csrf=csrf)
    assert response.status_code == 400
    assert response.get_json()["error"] in ("passkey_invalid", "passkey_challenge_invalid")
    assert not signed_in(client)


# --- confirming it is you with a passkey ---------------------------------------------------

def test_a_passkey_confirms_an_old_session_and_returns_to_the_page(app, client, person):
    authenticator, _ = enrol_passkey(app, person)
    csrf = meta_csrf(client)
    options = post_json(client, "/webauthn/login/begin", csrf=csrf).get_json()
    post_json(client, "/webauthn/login/finish", {"credential": authenticator.get(options)},
              csrf=csrf)
    age_sessions(app, person)
    path = "/account/security/confirm?next=/account/security/totp"
    html = client.get(path).get_data(as_text=True)
    assert "Confirm with a passkey" in html
    csrf = meta_csrf(client, path)
    options = post_json(client, "/webauthn/reauth/begin", csrf=csrf).get_json()
    response = post_json(client, "/webauthn/reauth/finish",
                         {"credential": authenticator.get(options),
                          "next": "/account/security/totp"}, csrf=csrf)
    assert response.status_code == 200
    assert response.get_json() == {"redirect": "/account/security/totp"}
    assert client.get("/account/security/totp").status_code == 200  # recent again
    assert "hwk" in newest_session(app, person).amr


def test_passkey_confirmation_refuses_without_a_passkey_or_with_a_bad_one(app, client,
                                                                          person):
    login(client, person["email"])
    csrf = meta_csrf(client, "/account/security")
    begin = post_json(client, "/webauthn/reauth/begin", csrf=csrf)
    assert begin.status_code == 400 and begin.get_json()["error"] == "mfa_not_enabled"
    bad = post_json(client, "/webauthn/reauth/finish", {"credential": {"id": "x"}},
                    csrf=csrf)
    assert bad.status_code == 400
    assert post_json(client, "/webauthn/reauth/finish", {}).status_code == 400  # no CSRF


def test_adding_a_passkey_can_sign_out_the_other_sessions(app, client, person):
    other = app.test_client()
    login(other, person["email"])
    login(client, person["email"])
    csrf = meta_csrf(client, "/account/security")
    options = post_json(client, "/webauthn/register/begin", csrf=csrf).get_json()
    done = post_json(client, "/webauthn/register/finish",
                     {"credential": SoftwareAuthenticator().create(options),
                      "end_others": True}, csrf=csrf)
    assert done.status_code == 200
    assert "Signed out 1 other session." in client.get("/account/security").get_data(
        as_text=True)
    assert other.get("/account").status_code == 302


def test_ceremonies_are_rate_limited_per_address(client):
    csrf = meta_csrf(client)
    answers = [post_json(client, "/webauthn/login/begin", csrf=csrf).status_code
               for _ in range(61)]
    assert answers[:60] == [200] * 60 and answers[60] == 429
    limited = post_json(client, "/webauthn/login/begin", csrf=csrf)
    assert limited.status_code == 429 and limited.is_json



def test_ceremony_answers_are_never_cached(client):
    csrf = meta_csrf(client)
    begin = post_json(client, "/webauthn/login/begin", csrf=csrf)
    refused = post_json(client, "/webauthn/login/finish", {}, csrf=csrf)
    unknown = post_json(client, "/webauthn/no-such-ceremony", csrf=csrf)
    assert [r.status_code for r in (begin, refused, unknown)] == [200, 400, 404]
    for response in (begin, refused, unknown):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Pragma"] == "no-cache"
    page = client.get("/login")  # a signed-out page keeps its own caching rules
    assert "Pragma" not in page.headers

# --- hostile JSON: a 400 in the ceremony's envelope, never a 500 ---------------------------

DEEP = "[" * 1500  # deeper than Python's json parser recurses


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", ["/webauthn/login/finish", "/webauthn/mfa/finish"])
def test_a_deeply_nested_body_is_a_400_naming_the_body(app, client, person, path):
    enrol_passkey(app, person)
    password_step(client, person["email"])
    csrf = meta_csrf(client, "/mfa")
    response = client.post(path, data=DEEP, content_type="application/json",
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 400
    assert response.get_json() == {"error": "validation", "message": "Send a JSON object.",
                                   "field": "body"}


@pytest.mark.parametrize("credential, error", [
    (DEEP, "validation"),  # the credential as JSON text
    ({"id": "abc", "rawId": "abc", "type": "public-key",
      "response": {"clientDataJSON": _b64('{"challenge": ' + DEEP)}}, "passkey_invalid"),
    ({"id": "abc", "response": "not an object"}, "passkey_invalid"),
], ids=["deep-string-credential", "deep-client-data", "response-not-an-object"])
def test_a_hostile_credential_at_passwordless_sign_in_is_a_400(client, credential, error):
    csrf = meta_csrf(client)
    post_json(client, "/webauthn/login/begin", csrf=csrf)
    response = post_json(client, "/webauthn/login/finish", {"credential": credential},
                         csrf=csrf)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == error and body["field"] == "credential"
    assert not signed_in(client)


@pytest.mark.parametrize("transports", [5, True, "usb", {"usb": 1}, None])
def test_registration_treats_transports_that_are_not_a_list_as_none(client, person, query,
                                                                     transports):
    login(client, person["email"])
    csrf = meta_csrf(client, "/account/security")
    options = post_json(client, "/webauthn/register/begin", csrf=csrf).get_json()
    credential = SoftwareAuthenticator().create(options)
    credential["response"]["transports"] = transports
    done = post_json(client, "/webauthn/register/finish", {"credential": credential},
                     csrf=csrf)
    assert done.status_code == 200, done.get_json()
    assert query(lambda s: s.scalar(select(WebAuthnCredential))).transports == []
