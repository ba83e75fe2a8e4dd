"""Passkeys in Chromium with a CDP virtual authenticator (CTAP2, internal, resident keys,
user verification): enrol one on /account/security, sign out, sign in with it alone, and
finish an OIDC code flow whose ID token, verified against the JWKS, says how.

The live server is reached as http://localhost:PORT and its issuer is that origin (the
live_server fixture sets both), so the WebAuthn RP ID is the domain `localhost`.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.core import acr
from app.models import WebAuthnCredential
from tests.browser.test_oidc_code_flow import RelyingParty
from tests.support.mfa_pages import age_sessions

pytestmark = pytest.mark.browser


def add_virtual_authenticator(page: Page, *, verified: bool = True):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": verified,
        "automaticPresenceSimulation": True}})
    return cdp, added["authenticatorId"]


def sign_in_with_password(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page: Page) -> None:
    page.goto("/logout")
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/login$"))


def enrol_passkey(page: Page, name: str) -> None:
    page.goto("/account/security")
    page.get_by_label("Name for a new passkey").fill(name)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text(f"Passkey “{name}” added.")).to_be_visible()
    expect(page.locator("#passkeys .passkey-name")).to_have_text([name])


@pytest.fixture
def person(make_user):
    return make_user(first_name="Ada", last_name="Lovelace", email_verified=True)


@pytest.fixture
def rp(app, live_server, page) -> RelyingParty:
    return RelyingParty(app, live_server, page)


def test_enrol_a_passkey_sign_out_and_sign_in_with_it_through_an_oidc_code_flow(
        page: Page, rp: RelyingParty, person, query):
    cdp, authenticator_id = add_virtual_authenticator(page)
    sign_in_with_password(page, person["email"], person["password"])
    expect(page).to_have_url(re.compile(r"/account$"))
    page.get_by_role("link", name="Security").click()
    expect(page).to_have_url(re.compile(r"/account/security$"))
    enrol_passkey(page, "This laptop")
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(held["credentials"]) == 1 and held["credentials"][0]["isResidentCredential"]
    assert held["credentials"][0]["rpId"] == "localhost"
    sign_out(page)

    # The application sends the person to sign in; a passkey alone does it.
    url, sent = rp.authorization_url()
    rp.start(page, url)
    expect(page).to_have_url(re.compile(r"/login\?next=/oauth2/authorize/resume/"))
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(r"/consent\?request="))
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(rp.redirect_uri)}\?"))

    claims = rp.verify_id_token(rp.exchange(rp.last_callback()["code"], sent), sent)
    assert claims["sub"] == person["id"]
    assert {"hwk", "swk"} & set(claims["amr"]) and "mfa" in claims["amr"]
    assert "pwd" not in claims["amr"] and claims["acr"] == acr.MFA

    # The security page shows the passkey as used.
    page.goto("/account/security")
    expect(page.locator("#passkeys .item .hint")).to_contain_text("last used")
    row = query(lambda s: s.scalar(select(WebAuthnCredential)))
    assert row.last_used_at is not None


def test_a_passkey_is_renamed_and_removed_on_the_security_page(page: Page, person, query):
    add_virtual_authenticator(page)
    sign_in_with_password(page, person["email"], person["password"])
    expect(page).to_have_url(re.compile(r"/account$"))
    enrol_passkey(page, "Phone")
    page.get_by_label("New name for Phone").fill("Old phone")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("Passkey renamed to “Old phone”.")).to_be_visible()
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Passkey removed.")).to_be_visible()
    expect(page.get_by_text("No passkeys yet.")).to_be_visible()
    assert query(lambda s: s.scalar(select(WebAuthnCredential))) is None


def test_a_refused_passkey_prompt_says_so_and_signs_nobody_in(page: Page, person):
    cdp, authenticator_id = add_virtual_authenticator(page)
    sign_in_with_password(page, person["email"], person["password"])
    enrol_passkey(page, "Laptop")
    sign_out(page)
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator_id,
                                          "isUserVerified": False})
    page.goto("/login")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("cancelled or timed out")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_a_passkey_as_the_second_factor_after_the_password(page: Page, person):
    add_virtual_authenticator(page)
    sign_in_with_password(page, person["email"], person["password"])
    enrol_passkey(page, "Laptop")
    sign_out(page)
    sign_in_with_password(page, person["email"], person["password"])
    expect(page).to_have_url(re.compile(r"/mfa$"))
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(r"/account$"))


def test_an_old_session_confirms_the_password_first_and_comes_back_to_add_the_passkey(
        app, page: Page, person):
    add_virtual_authenticator(page)
    sign_in_with_password(page, person["email"], person["password"])
    expect(page).to_have_url(re.compile(r"/account$"))
    age_sessions(app, person)
    page.goto("/account/security")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(re.compile(r"/account/security/confirm\?next="))
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_text("The current password is incorrect.")).to_be_visible()
    page.get_by_label("Password", exact=True).fill(person["password"])
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page).to_have_url(re.compile(r"/account/security$"))
    enrol_passkey(page, "After confirming")
