"""The hosted account pages, driven in Chromium the way a person uses them.

Each test reads what a person sees (the URL, the visible text, the cookies the browser
holds) and, where it matters, what the database recorded.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.models import AuthSession, User

pytestmark = pytest.mark.browser

SESSION_COOKIE = "tessera_session"
STRONG_PASSWORD = "violet kettle under moonlight"
NEW_PASSWORD = "seven quiet lanterns drifting"


# --- helpers ---------------------------------------------------------------------------

def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def signed_in(page: Page, email: str, password: str) -> None:
    sign_in(page, email, password)
    expect(page).to_have_url(re.compile(r"/account$"))


def fill_signup(page: Page, *, email: str, password: str, confirm: str | None = None,
                first_name: str = "Ada", last_name: str = "Lovelace") -> None:
    page.goto("/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("First name").fill(first_name)
    page.get_by_label("Last name").fill(last_name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password").fill(password if confirm is None else confirm)
    page.get_by_role("button", name="Create account", exact=True).click()


def session_cookie(page: Page) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == SESSION_COOKIE), None)


def field_error(page: Page, field_id: str):
    """The error shown inside the same field block as the input."""
    return page.locator(f".field.has-error:has(#{field_id}) #{field_id}-error")


def live_sessions(query, user_id) -> list[AuthSession]:
    key = uuid.UUID(str(user_id))
    return query(lambda s: s.scalars(select(AuthSession).where(
        AuthSession.user_id == key, AuthSession.ended_at.is_(None))).all())


def user_by_email(query, email: str) -> User | None:
    return query(lambda s: s.scalar(select(User).where(User.email == email)))


def expect_signed_out(page: Page) -> None:
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert session_cookie(page) is None  # a dead cookie is cleared, not kept


# --- 1. sign up ------------------------------------------------------------------------

def test_a_person_can_sign_up_and_lands_on_their_account(page, query):
    fill_signup(page, email="Ada@Example.com", password=STRONG_PASSWORD)

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("status")).to_have_text("Welcome to Tessera. Your account is ready.")
    expect(page.locator("#profile-email")).to_contain_text("ada@example.com")
    expect(page.locator("#profile-name")).to_have_text("Ada Lovelace")
    cookie = session_cookie(page)
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    user = user_by_email(query, "ada@example.com")
    assert user is not None and (user.first_name, user.last_name) == ("Ada", "Lovelace")
    assert len(live_sessions(query, user.id)) == 1


# --- 2. sign-up errors -----------------------------------------------------------------

def test_sign_up_with_a_taken_email_shows_the_error_beside_the_email_field(page, make_user,
                                                                           query):
    make_user(email="taken@example.com")

    fill_signup(page, email="Taken@Example.com", password=STRONG_PASSWORD)

    expect(page).to_have_url(re.compile(r"/signup$"))
    expect(field_error(page, "email")).to_have_text("An account with this email already exists.")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Email")).to_have_value("Taken@Example.com")
    assert session_cookie(page) is None
    assert [u.email for u in query(lambda s: s.scalars(select(User)).all())] == [
        "taken@example.com"]


def test_sign_up_with_a_common_password_shows_the_error_beside_the_password_field(page, query):
    fill_signup(page, email="weak@example.com", password="password123")

    expect(page).to_have_url(re.compile(r"/signup$"))
    expect(field_error(page, "password")).to_have_text(
        "This password is too common. Choose another.")
    # The password is never echoed back into the page.
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    assert user_by_email(query, "weak@example.com") is None


def test_sign_up_with_a_short_password_shows_the_minimum_length(page, query):
    fill_signup(page, email="short@example.com", password="kq7#z")

    expect(page).to_have_url(re.compile(r"/signup$"))
    expect(field_error(page, "password")).to_have_text("Password must be at least 8 characters.")
    assert user_by_email(query, "short@example.com") is None


def test_sign_up_with_a_mismatched_confirmation_shows_the_error_beside_the_confirmation(
        page, query):
    fill_signup(page, email="mismatch@example.com", password=STRONG_PASSWORD,
                confirm=STRONG_PASSWORD + "!")

    expect(page).to_have_url(re.compile(r"/signup$"))
    expect(field_error(page, "password_confirm")).to_have_text("Passwords do not match.")
    expect(page.locator("#password-error")).to_have_count(0)
    # What the person typed elsewhere is kept.
    expect(page.get_by_label("Email")).to_have_value("mismatch@example.com")
    expect(page.get_by_label("First name")).to_have_value("Ada")
    assert user_by_email(query, "mismatch@example.com") is None


def test_sign_up_with_an_invalid_email_shows_the_error_beside_the_email_field(page, query):
    fill_signup(page, email="ada-at-example.com", password=STRONG_PASSWORD)

    expect(page).to_have_url(re.compile(r"/signup$"))
    expect(field_error(page, "email")).to_have_text("Enter a valid email address.")
    assert query(lambda s: s.scalars(select(User)).all()) == []


# --- 3. log in -------------------------------------------------------------------------

def test_a_person_can_log_in_and_lands_on_their_account(page, make_user, query):
    user = make_user(email="grace@example.com", first_name="Grace", last_name="Hopper")

    sign_in(page, "grace@example.com", user["password"])

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("#profile-email")).to_contain_text("grace@example.com")
    expect(page.locator("#profile-name")).to_have_text("Grace Hopper")
    assert session_cookie(page) is not None
    [row] = live_sessions(query, user["id"])
    assert row.amr == ["pwd"] and "Chrome" in (row.user_agent or "")


def test_a_wrong_password_is_refused_without_a_session_cookie(page, make_user, query):
    user = make_user(email="grace@example.com")

    sign_in(page, "grace@example.com", "not the right password")

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    assert session_cookie(page) is None
    assert live_sessions(query, user["id"]) == []
    expect_signed_out(page)


def test_signing_in_returns_to_the_page_that_asked_for_it(page, make_user):
    user = make_user(email="back@example.com")
    page.goto("/account/sessions")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount%2Fsessions$"))

    page.get_by_label("Email").fill("back@example.com")
    page.get_by_label("Password", exact=True).fill(user["password"])
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page).to_have_url(re.compile(r"/account/sessions$"))
    expect(page.get_by_role("heading", name="Where you are signed in")).to_be_visible()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/account",
                                    "/\\evil.example"])
def test_signing_in_never_sends_a_person_to_another_site(page, make_user, live_server,
                                                         target):
    user = make_user(email="stay@example.com")
    page.goto(f"/login?next={quote(target, safe='')}")
    page.get_by_label("Email").fill("stay@example.com")
    page.get_by_label("Password", exact=True).fill(user["password"])
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page).to_have_url(f"{live_server}/account")


def test_an_unknown_email_gets_the_same_message_as_a_wrong_password(page):
    sign_in(page, "nobody@example.com", "whatever it may be")

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")
    assert session_cookie(page) is None


# --- 4. edit profile -------------------------------------------------------------------

def test_a_person_can_edit_their_profile_and_sees_it_after_reload(page, make_user, query):
    user = make_user(email="edit@example.com")
    signed_in(page, "edit@example.com", user["password"])

    page.get_by_label("First name").fill("Katherine")
    page.get_by_label("Last name").fill("Johnson")
    page.get_by_label("Username").fill("kjohnson")
    page.get_by_label("Phone").fill("+1 (555) 010-0199")
    page.get_by_role("button", name="Save profile", exact=True).click()

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("status")).to_have_text("Profile saved.")
    page.reload()
    expect(page.get_by_label("First name")).to_have_value("Katherine")
    expect(page.get_by_label("Last name")).to_have_value("Johnson")
    expect(page.get_by_label("Username")).to_have_value("kjohnson")
    expect(page.get_by_label("Phone")).to_have_value("+1 (555) 010-0199")
    expect(page.locator("#profile-name")).to_have_text("Katherine Johnson")
    stored = user_by_email(query, "edit@example.com")
    assert (stored.first_name, stored.last_name, stored.username, stored.phone) == (
        "Katherine", "Johnson", "kjohnson", "+1 (555) 010-0199")


def test_an_invalid_phone_shows_a_field_error_and_saves_nothing(page, make_user, query):
    user = make_user(email="phone@example.com", first_name="Old")
    signed_in(page, "phone@example.com", user["password"])

    page.get_by_label("First name").fill("New")
    page.get_by_label("Phone").fill("call me maybe")
    page.get_by_role("button", name="Save profile", exact=True).click()

    expect(field_error(page, "phone")).to_have_text("Enter a valid phone number.")
    expect(page.get_by_label("Phone")).to_have_value("call me maybe")
    expect(page.get_by_role("status")).to_have_count(0)
    expect(page.locator("#profile-name")).to_have_text("Old")
    stored = user_by_email(query, "phone@example.com")
    assert (stored.first_name, stored.phone) == ("Old", None)


def test_a_username_taken_by_someone_else_shows_a_field_error(page, make_user):
    make_user(email="first@example.com", username="hopper")
    user = make_user(email="second@example.com")
    signed_in(page, "second@example.com", user["password"])

    page.get_by_label("Username").fill("Hopper")
    page.get_by_role("button", name="Save profile", exact=True).click()

    expect(field_error(page, "username")).to_have_text("This username is taken.")


# --- 5. change password ----------------------------------------------------------------

def change_password(page: Page, current: str, new: str, confirm: str | None = None) -> None:
    page.goto("/account/password")
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("Confirm new password").fill(new if confirm is None else confirm)
    page.get_by_role("button", name="Change password", exact=True).click()


def log_out(page: Page) -> None:
    page.goto("/logout")
    page.get_by_role("main").get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_a_person_can_change_their_password_and_only_the_new_one_works(page, make_user,
                                                                      query):
    user = make_user(email="pw@example.com")
    signed_in(page, "pw@example.com", user["password"])

    change_password(page, user["password"], NEW_PASSWORD)

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("status")).to_have_text(
        "Password changed. Your other sessions were signed out.")
    assert len(live_sessions(query, user["id"])) == 1  # this one stays signed in

    log_out(page)
    sign_in(page, "pw@example.com", user["password"])
    expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")
    assert session_cookie(page) is None

    sign_in(page, "pw@example.com", NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("#profile-email")).to_contain_text("pw@example.com")


def test_changing_the_password_needs_the_current_password(page, make_user, query):
    user = make_user(email="pw@example.com")
    signed_in(page, "pw@example.com", user["password"])
    before = query(lambda s: s.scalar(select(User.password_hash)))

    change_password(page, "not my password", NEW_PASSWORD)

    expect(page).to_have_url(re.compile(r"/account/password$"))
    expect(field_error(page, "current_password")).to_have_text(
        "The current password is incorrect.")
    assert query(lambda s: s.scalar(select(User.password_hash))) == before


def test_changing_the_password_refuses_a_weak_or_mismatched_new_password(page, make_user):
    user = make_user(email="pw@example.com")
    signed_in(page, "pw@example.com", user["password"])

    change_password(page, user["password"], "password123")
    expect(field_error(page, "new_password")).to_have_text(
        "This password is too common. Choose another.")

    change_password(page, user["password"], NEW_PASSWORD, confirm=NEW_PASSWORD + "?")
    expect(field_error(page, "new_password_confirm")).to_have_text("Passwords do not match.")


def test_changing_the_password_signs_out_the_other_devices(page, browser, live_server,
                                                           make_user):
    user = make_user(email="pw@example.com")
    other = browser.new_context(base_url=live_server).new_page()
    try:
        signed_in(other, "pw@example.com", user["password"])
        signed_in(page, "pw@example.com", user["password"])

        change_password(page, user["password"], NEW_PASSWORD)
        expect(page).to_have_url(re.compile(r"/account$"))

        expect_signed_out(other)
        assert session_cookie(other) is None  # the dead cookie was cleared
    finally:
        other.context.close()


# --- 6. sessions -----------------------------------------------------------------------

def test_a_person_can_end_another_session_and_that_device_is_signed_out(
        page, browser, live_server, make_user, query):
    user = make_user(email="two@example.com")
    other = browser.new_context(base_url=live_server).new_page()
    try:
        signed_in(other, "two@example.com", user["password"])
        [other_session] = live_sessions(query, user["id"])
        other_id = other_session.id
        signed_in(page, "two@example.com", user["password"])

        page.goto("/account/sessions")
        rows = page.locator("li.session")
        expect(rows).to_have_count(2)
        this_device = rows.filter(has=page.locator(".badge", has_text="this device"))
        expect(this_device).to_have_count(1)
        expect(this_device.get_by_role("button", name="End session", exact=True)).to_have_count(0)
        other_row = page.locator(f'li.session[data-session-id="{other_id}"]')
        expect(other_row).not_to_contain_text("this device")

        other_row.get_by_role("button", name="End session", exact=True).click()

        expect(page).to_have_url(re.compile(r"/account/sessions$"))
        expect(page.get_by_role("status")).to_have_text("Session ended.")
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("this device")
        sign_out_others = page.get_by_role("button", name="Sign out all other sessions",
                                           exact=True)
        expect(sign_out_others).to_have_count(0)
        ended = query(lambda s: s.get(AuthSession, other_id))
        assert ended.end_reason == "ended_by_user"

        expect_signed_out(other)
        # This device is still signed in.
        page.goto("/account")
        expect(page).to_have_url(re.compile(r"/account$"))
    finally:
        other.context.close()


def test_a_person_can_sign_out_all_other_sessions(page, browser, live_server, make_user,
                                                  query):
    user = make_user(email="many@example.com")
    others = [browser.new_context(base_url=live_server).new_page() for _ in range(2)]
    try:
        for other in others:
            signed_in(other, "many@example.com", user["password"])
        signed_in(page, "many@example.com", user["password"])

        page.goto("/account/sessions")
        expect(page.locator("li.session")).to_have_count(3)
        page.get_by_role("button", name="Sign out all other sessions", exact=True).click()

        expect(page).to_have_url(re.compile(r"/account/sessions$"))
        expect(page.get_by_role("status")).to_have_text("Signed out 2 other sessions.")
        expect(page.locator("li.session")).to_have_count(1)
        expect(page.locator("li.session")).to_contain_text("this device")
        assert len(live_sessions(query, user["id"])) == 1

        for other in others:
            expect_signed_out(other)
        page.goto("/account")
        expect(page).to_have_url(re.compile(r"/account$"))
    finally:
        for other in others:
            other.context.close()


def test_a_person_cannot_end_someone_elses_session(page, browser, live_server, make_user,
                                                   query):
    victim = make_user(email="victim@example.com")
    attacker = make_user(email="attacker@example.com")
    pages = [browser.new_context(base_url=live_server).new_page() for _ in range(2)]
    victim_page, attacker_other = pages
    try:
        signed_in(victim_page, "victim@example.com", victim["password"])
        [victim_session] = live_sessions(query, victim["id"])
        signed_in(attacker_other, "attacker@example.com", attacker["password"])
        signed_in(page, "attacker@example.com", attacker["password"])
        page.goto("/account/sessions")
        # Only the attacker's own two sessions are listed.
        expect(page.locator("li.session")).to_have_count(2)

        # Point the End session form at the victim's session, as devtools would allow.
        page.locator('input[name="session_id"]').evaluate(
            "(input, id) => { input.value = id; }", str(victim_session.id))
        page.get_by_role("button", name="End session", exact=True).click()

        expect(page).to_have_url(re.compile(r"/account/sessions$"))
        expect(page.get_by_role("status")).to_have_text("Session not found.")
        assert len(live_sessions(query, victim["id"])) == 1
        assert len(live_sessions(query, attacker["id"])) == 2
        victim_page.goto("/account")
        expect(victim_page).to_have_url(re.compile(r"/account$"))
    finally:
        for other in pages:
            other.context.close()


# --- 7. log out ------------------------------------------------------------------------

def test_logging_out_asks_for_confirmation_then_signs_out(page, make_user, query):
    user = make_user(email="bye@example.com")
    signed_in(page, "bye@example.com", user["password"])
    [row] = live_sessions(query, user["id"])

    page.goto("/logout")
    expect(page).to_have_url(re.compile(r"/logout$"))
    expect(page.get_by_text("Sign out of Tessera on this device?")).to_be_visible()
    assert session_cookie(page) is not None  # merely visiting /logout signs nobody out
    assert len(live_sessions(query, user["id"])) == 1

    page.get_by_role("main").get_by_role("button", name="Sign out", exact=True).click()

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert session_cookie(page) is None
    assert query(lambda s: s.get(AuthSession, row.id)).end_reason == "logout"
    expect_signed_out(page)


def test_staying_signed_in_from_the_logout_page_keeps_the_session(page, make_user, query):
    user = make_user(email="stay@example.com")
    signed_in(page, "stay@example.com", user["password"])

    page.goto("/logout")
    page.get_by_role("link", name="Stay signed in").click()

    expect(page).to_have_url(re.compile(r"/account$"))
    assert len(live_sessions(query, user["id"])) == 1


def test_the_logout_page_sends_a_signed_out_visitor_to_login(page):
    page.goto("/logout")
    expect(page).to_have_url(re.compile(r"/login$"))


# --- 8. security headers and no third parties -------------------------------------------

def test_pages_carry_security_headers_and_load_nothing_from_other_hosts(page, make_user,
                                                                        live_server):
    user = make_user(email="headers@example.com")
    own_origin = urlsplit(live_server).netloc
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    csp_violations: list[str] = []
    page.on("console", lambda message: csp_violations.append(message.text)
            if "Content Security Policy" in message.text else None)

    def check(path: str) -> None:
        response = page.goto(path)
        assert response is not None and response.ok, (path, response and response.status)
        page.wait_for_load_state("load")
        headers = response.all_headers()
        csp = headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, (path, csp)
        assert "default-src 'self'" in csp, (path, csp)
        assert headers.get("x-frame-options") == "DENY", path
        assert headers.get("x-content-type-options") == "nosniff", path

    for path in ("/login", "/signup"):
        check(path)
    signed_in(page, "headers@example.com", user["password"])
    for path in ("/account", "/account/password", "/account/sessions", "/account/apps",
                 "/logout"):
        check(path)
        assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") \
            == "flex", "the stylesheet did not load"

    assert requested, "no requests were recorded"
    foreign = [url for url in requested if urlsplit(url).netloc != own_origin]
    assert foreign == []
    assert any(urlsplit(url).path == "/static/tessera.css" for url in requested)

    missing = page.goto("/no-such-page")
    assert missing.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert "frame-ancestors 'none'" in missing.all_headers()["content-security-policy"]
    assert missing.all_headers()["x-frame-options"] == "DENY"
    assert csp_violations == []


def test_signed_in_pages_are_not_stored_by_shared_caches(page, make_user):
    user = make_user(email="cache@example.com")
    signed_in(page, "cache@example.com", user["password"])

    response = page.goto("/account")

    assert response.headers.get("cache-control") == "no-store"
