"""MFA inside the authorization code flow: the second factor before the code, amr and acr in
the ID token, and acr_values asking for MFA (step-up, unmet requirements, prompt=none)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.core import acr
from app.models import OutboundMail
from tests.conftest import login, post_form
from tests.pages.test_pages_mail import latest_token
from tests.support.flow import (
    REDIRECT_URI,
    authorize_params,
    callback_params,
    exchange,
    follow_to_code,
    make_client,
    verify_with_jwks,
)
from tests.support.mfa_pages import answer, enable_email_codes, enable_totp, password_step
from tests.support.pkce import pkce_pair

MFA_ONLY = {"acr_values": acr.MFA}


@pytest.fixture
def rp(app):
    return make_client(app, skip_consent=True)


@pytest.fixture
def person(make_user):
    return make_user(email_verified=True)


def start(client, rp, challenge, **extra) -> str:
    response = client.get("/oauth2/authorize",
                          query_string=authorize_params(rp, challenge, **extra))
    assert response.status_code == 302
    return response.headers["Location"]


def id_token_claims(client, rp, callback, verifier) -> dict:
    response = exchange(client, rp, callback["code"], verifier)
    assert response.status_code == 200, response.get_json()
    return verify_with_jwks(client, response.get_json()["id_token"])


def test_discovery_lists_the_acr_values_tessera_honours(client):
    document = client.get("/.well-known/openid-configuration").get_json()
    assert document["acr_values_supported"] == [acr.ONE_FACTOR, acr.MFA]
    assert "acr" in document["claims_supported"] and "amr" in document["claims_supported"]


def test_a_person_with_totp_passes_it_before_the_code_and_the_id_token_says_so(
        app, client, rp, person, clock):
    secret = enable_totp(app, person, clock)
    verifier, challenge = pkce_pair()
    location = start(client, rp, challenge)
    assert location.startswith("/login?next=/oauth2/authorize/resume/")
    next_url = location.split("next=")[1].split("&")[0]
    assert password_step(client, person["email"], next_url=next_url).headers[
        "Location"] == "/mfa"
    response = answer(client, "totp", clock.code(secret))
    assert response.headers["Location"] == next_url
    callback = callback_params(client.get(next_url).headers["Location"])
    claims = id_token_claims(client, rp, callback, verifier)
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == acr.MFA


def test_a_password_only_sign_in_carries_the_one_factor_acr(client, rp, person):
    login(client, person["email"])
    verifier, challenge = pkce_pair()
    claims = id_token_claims(client, rp, follow_to_code(client, rp, challenge), verifier)
    assert claims["amr"] == ["pwd"] and claims["acr"] == acr.ONE_FACTOR


def one_factor_session(app, client, person, clock) -> str:
    """A person with TOTP signed in with the password alone, on a remembered device."""
    secret = enable_totp(app, person, clock)
    password_step(client, person["email"])
    answer(client, "totp", clock.code(secret), remember=True)
    post_form(client, "/logout", {})
    clock.advance(30)
    assert password_step(client, person["email"]).headers["Location"] == "/account"
    return secret


def test_acr_values_asking_for_mfa_steps_up_a_one_factor_session(app, client, rp, person,
                                                                 clock):
    secret = one_factor_session(app, client, person, clock)

    verifier, challenge = pkce_pair()
    location = start(client, rp, challenge, **MFA_ONLY)
    assert urlsplit(location).path == "/mfa/step-up"
    assert client.get(location).headers["Location"] == "/mfa"
    page = client.get("/mfa").get_data(as_text=True)
    assert "The application asks you to confirm it is you" in page
    response = answer(client, "totp", clock.code(secret))
    resume = response.headers["Location"]
    assert resume.startswith("/oauth2/authorize/resume/")
    callback = callback_params(client.get(resume).headers["Location"])
    claims = id_token_claims(client, rp, callback, verifier)
    assert claims["acr"] == acr.MFA and "otp" in claims["amr"] and "mfa" in claims["amr"]


def test_an_mfa_session_satisfies_acr_values_at_once(app, client, rp, person, clock):
    secret = enable_totp(app, person, clock)
    password_step(client, person["email"])
    answer(client, "totp", clock.code(secret))
    _, challenge = pkce_pair()
    location = start(client, rp, challenge, **MFA_ONLY)
    assert location.startswith(REDIRECT_URI + "?code=")


def test_acr_values_for_mfa_and_no_factor_is_unmet_authentication_requirements(
        client, rp, person):
    login(client, person["email"])
    _, challenge = pkce_pair()
    callback = callback_params(start(client, rp, challenge, **MFA_ONLY))
    assert callback["error"] == "unmet_authentication_requirements"
    assert callback["state"] == "state-123"


def test_acr_values_for_mfa_with_prompt_none_is_interaction_required(app, client, rp, person,
                                                                    clock):
    one_factor_session(app, client, person, clock)
    _, challenge = pkce_pair()
    callback = callback_params(start(client, rp, challenge, prompt="none", **MFA_ONLY))
    assert callback["error"] == "interaction_required"


def test_acr_values_naming_both_levels_accept_one_factor(client, rp, person):
    login(client, person["email"])
    _, challenge = pkce_pair()
    location = start(client, rp, challenge, acr_values=f"{acr.MFA} {acr.ONE_FACTOR}")
    assert location.startswith(REDIRECT_URI + "?code=")


@pytest.mark.parametrize("acr_claim, forced", [
    ({"essential": True, "values": [acr.MFA]}, True),
    ({"essential": True, "value": acr.MFA}, True),
    ({"essential": False, "values": [acr.MFA]}, False),
    ({"values": [acr.MFA]}, False),
    ({"essential": True, "values": [acr.MFA, acr.ONE_FACTOR]}, False),
])
def test_an_essential_acr_claim_for_mfa_forces_it_like_acr_values(client, rp, person,
                                                                   acr_claim, forced):
    login(client, person["email"])
    _, challenge = pkce_pair()
    claims = json.dumps({"id_token": {"acr": acr_claim}})
    callback = callback_params(start(client, rp, challenge, claims=claims))
    if forced:
        assert callback["error"] == "unmet_authentication_requirements"
    else:
        assert "code" in callback


def test_a_sign_in_link_session_cannot_step_up_with_an_email_code(app, client, rp, person,
                                                                    query):
    # Signed in by a link while no factor was enrolled; email codes turned on since.
    post_form(client, "/login/magic/send", {"email": person["email"]}, csrf_path="/login")
    post_form(client, f"/login/magic?token={latest_token(query, 'magic_link')}", {})
    assert client.get("/account").status_code == 200
    enable_email_codes(app, person)

    _, challenge = pkce_pair()
    location = start(client, rp, challenge, **MFA_ONLY)
    assert urlsplit(location).path == "/mfa/step-up"
    response = client.get(location)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?reauth=True&next=")
    assert "cannot follow a sign-in link" in client.get("/account").get_data(as_text=True)
    assert query(lambda s: s.scalars(select(OutboundMail).where(
        OutboundMail.purpose == "mfa_code")).all()) == []
