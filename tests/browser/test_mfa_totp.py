"""An authenticator app as the second factor, in Chromium: set it up on /account/security
from the key the page shows (pyotp computes the codes), keep the recovery codes, then sign
in to an application with password and code, and check the ID token's amr and acr."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Page, expect

from app.core import acr
from app.core.mfa import totp
from tests.browser.test_mfa_passkeys import sign_in_with_password, sign_out
from tests.browser.test_oidc_code_flow import RelyingParty

pytestmark = pytest.mark.browser


@pytest.fixture
def person(make_user):
    return make_user(first_name="Ada", last_name="Lovelace", email_verified=True)


@pytest.fixture
def rp(app, live_server, page) -> RelyingParty:
    return RelyingParty(app, live_server, page)


def set_up_totp(page: Page, clock) -> str:
    page.goto("/account/security")
    page.get_by_role("link", name="Set up authenticator app").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code from the app").fill(clock.code(secret))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-code-list li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_text("10 of 10 recovery codes left.")).to_be_visible()
    clock.advance(2 * totp.STEP_SECONDS)  # the next code is a new one
    return secret


def test_totp_set_up_then_a_code_after_the_password_completes_an_oidc_code_flow(
        page: Page, rp: RelyingParty, person, clock):
    sign_in_with_password(page, person["email"], person["password"])
    expect(page).to_have_url(re.compile(r"/account$"))
    secret = set_up_totp(page, clock)
    assert pyotp.TOTP(secret).at(clock.now) == clock.code(secret)
    sign_out(page)

    url, sent = rp.authorization_url()
    rp.start(page, url)
    expect(page).to_have_url(re.compile(r"/login\?next=/oauth2/authorize/resume/"))
    page.get_by_label("Email").fill(person["email"])
    page.get_by_label("Password", exact=True).fill(person["password"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/mfa$"))
    page.get_by_label("Code from your authenticator app").fill("000000" if clock.code(
        secret) != "000000" else "111111")
    page.locator("#mfa-totp").get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not correct.")).to_be_visible()
    expect(page.get_by_text("4 attempts left.")).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(clock.code(secret))
    page.locator("#mfa-totp").get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/consent\?request="))
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(rp.redirect_uri)}\?"))

    claims = rp.verify_id_token(rp.exchange(rp.last_callback()["code"], sent), sent)
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == acr.MFA


def test_a_remembered_browser_skips_the_code_until_it_is_forgotten(page: Page, person,
                                                                   clock):
    sign_in_with_password(page, person["email"], person["password"])
    secret = set_up_totp(page, clock)
    sign_out(page)
    sign_in_with_password(page, person["email"], person["password"])
    expect(page).to_have_url(re.compile(r"/mfa$"))
    page.get_by_label("Code from your authenticator app").fill(clock.code(secret))
    page.locator("#mfa-totp").get_by_label(re.compile("Remember this device")).check()
    page.locator("#mfa-totp").get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    cookie = next(c for c in page.context.cookies() if c["name"] == "tessera_trusted_device")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    sign_out(page)
    sign_in_with_password(page, person["email"], person["password"])
    expect(page).to_have_url(re.compile(r"/account$"))  # no code asked

    page.goto("/account/security")
    page.get_by_role("button", name="Forget device").click()
    expect(page.get_by_text("No trusted devices.")).to_be_visible()
    sign_out(page)
    sign_in_with_password(page, person["email"], person["password"])
    expect(page).to_have_url(re.compile(r"/mfa$"))


def test_an_application_asking_for_mfa_steps_up_a_remembered_browser(page: Page,
                                                                     rp: RelyingParty,
                                                                     person, clock):
    sign_in_with_password(page, person["email"], person["password"])
    secret = set_up_totp(page, clock)
    sign_out(page)
    sign_in_with_password(page, person["email"], person["password"])
    page.get_by_label("Code from your authenticator app").fill(clock.code(secret))
    page.locator("#mfa-totp").get_by_label(re.compile("Remember this device")).check()
    page.locator("#mfa-totp").get_by_role("button", name="Verify").click()
    sign_out(page)
    clock.advance(2 * totp.STEP_SECONDS)
    sign_in_with_password(page, person["email"], person["password"])
    expect(page).to_have_url(re.compile(r"/account$"))  # one factor on this browser

    url, sent = rp.authorization_url(acr_values=acr.MFA)
    rp.start(page, url)
    expect(page).to_have_url(re.compile(r"/mfa$"))
    expect(page.get_by_text("The application asks you to confirm it is you")).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(clock.code(secret))
    page.locator("#mfa-totp").get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/consent\?request="))
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(rp.redirect_uri)}\?"))
    claims = rp.verify_id_token(rp.exchange(rp.last_callback()["code"], sent), sent)
    assert claims["acr"] == acr.MFA and claims["amr"] == ["pwd", "otp", "mfa"]
