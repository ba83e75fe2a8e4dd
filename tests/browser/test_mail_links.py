"""Email verification and sign-in links, in Chromium, with mail read from real SMTP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.mail_fixtures import body_of

pytestmark = pytest.mark.browser

VERIFY_LINK = re.compile(r"http://\S+/verify-email\?token=[A-Za-z0-9_-]+")
SIGN_IN_LINK = re.compile(r"http://\S+/login/magic\?token=[A-Za-z0-9_-]+")
PASSWORD = "a long and private phrase"


@pytest.fixture
def app(mail_app):
    """The live server's app delivers mail to the test's aiosmtpd server."""
    return mail_app


def sign_up(page) -> None:
    page.goto("/signup")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/account$"))


def test_a_new_account_confirms_its_email_from_the_mailed_link(page, smtp_server):
    sign_up(page)
    expect(page.locator("#verify-notice")).to_be_visible()

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "ada@example.com"
    page.goto(VERIFY_LINK.search(body_of(message)).group(0))
    expect(page.get_by_role("heading", name="Email confirmed")).to_be_visible()
    page.goto("/account")
    expect(page.locator("#verify-notice")).to_have_count(0)
    expect(page.get_by_text("verified", exact=True)).to_be_visible()


def test_a_new_account_confirms_its_email_with_the_mailed_code(page, smtp_server):
    sign_up(page)

    [message] = smtp_server.wait_for(1)
    code = re.search(r"code: (\d{6})", body_of(message)).group(1)
    notice = page.locator("#verify-notice")
    notice.get_by_label("Code from the email").fill("000000" if code != "000000" else "111111")
    notice.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not correct.")).to_be_visible()
    expect(page.get_by_text("4 tries left.")).to_be_visible()
    page.get_by_label("Code from the email").fill(code)
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_text("Thank you: your email address is verified.")).to_be_visible()
    expect(page.locator("#verify-notice")).to_have_count(0)


def test_a_person_signs_in_with_a_mailed_link_from_the_login_page(page, make_user,
                                                                  smtp_server):
    make_user(email="ada@example.com")
    page.goto("/login")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    message = next(m for m in smtp_server.wait_for(2) if m["Subject"] == "Your sign-in link")
    link = SIGN_IN_LINK.search(body_of(message)).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Sign in with your link")).to_be_visible()
    page.get_by_role("button", name="Continue to sign in").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_text("ada@example.com").first).to_be_visible()

    # The link worked once.
    page.goto(link)
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()


def test_a_sign_up_link_mailed_through_the_api_creates_the_account_in_the_browser(
        page, smtp_server):
    # An app on modernauth asks for a link for an address with no account.
    sent = page.request.post("/v1/auth/magic-link/send", data={"email": "new@example.com"})
    assert sent.status == 200
    [message] = smtp_server.wait_for(1)
    link = SIGN_IN_LINK.search(body_of(message)).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_role("button", name="Create your account and sign in").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_text("Welcome to Tessera. Your account is ready.")).to_be_visible()
    expect(page.locator("#profile-email")).to_contain_text("new@example.com")
    expect(page.locator("#profile-email .badge.ok")).to_have_text("verified")

    page.goto(link)
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()
