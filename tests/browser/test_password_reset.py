"""Forgot password, in Chromium, with the reset mail read from a real SMTP server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.mail_fixtures import body_of

pytestmark = pytest.mark.browser

NEW_PASSWORD = "seven quiet lanterns drifting"
RESET_LINK = re.compile(r"http://\S+/password/reset\?token=[A-Za-z0-9_-]+")


@pytest.fixture
def app(mail_app):
    """The live server's app delivers mail to the test's aiosmtpd server."""
    return mail_app


def test_a_person_resets_a_forgotten_password_from_the_login_page(page, make_user,
                                                                  smtp_server):
    user = make_user(email="ada@example.com", email_verified=True)
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("Ada@Example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "ada@example.com"
    link = RESET_LINK.search(body_of(message)).group(0)
    page.goto(link)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("Sign in with your new password")).to_be_visible()

    page.get_by_label("Email").fill(user["email"])
    page.get_by_label("Password", exact=True).fill(user["password"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("Incorrect email or password.")).to_be_visible()

    page.get_by_label("Email").fill(user["email"])
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/account$"))

    # The link worked once.
    page.goto(link)
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()
