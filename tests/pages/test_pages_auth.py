"""Sign-up, sign-in and sign-out pages over HTTP."""

import pytest
from sqlalchemy import select

from app.models import AuditEvent, AuthSession, User
from tests.conftest import DEFAULT_PASSWORD, fetch_csrf, login, post_form

SIGNUP = {"email": "new.person@example.com", "first_name": "New", "last_name": "Person",
          "username": "", "password": DEFAULT_PASSWORD, "password_confirm": DEFAULT_PASSWORD}


def session_cookie(client):
    return client.get_cookie("tessera_session")


def test_signup_creates_the_account_signs_in_and_redirects_to_account(client, query):
    response = post_form(client, "/signup", SIGNUP)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    cookie = session_cookie(client)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    user = query(lambda s: s.scalar(select(User)))
    assert (user.email, user.first_name, user.email_verified) == (
        "new.person@example.com", "New", False)
    page = client.get("/account")
    assert page.status_code == 200
    assert "new.person@example.com" in page.get_data(as_text=True)


@pytest.mark.parametrize("changes, message, status", [
    ({"email": ""}, "This field is required.", 400),
    ({"email": "not-an-email"}, "Enter a valid email address.", 400),
    ({"email": "a" * 255 + "@x.com"}, "Field cannot be longer than 254 characters.", 400),
    ({"password": "password123", "password_confirm": "password123"}, "too common", 400),
    ({"password": "short", "password_confirm": "short"}, "at least 8 characters", 400),
    ({"password_confirm": "something else entirely"}, "Passwords do not match.", 400),
    ({"first_name": "n" * 101}, "Field cannot be longer than 100 characters.", 400),
    ({"username": "no spaces allowed"}, "Username must be", 400),
])
def test_signup_bad_input_is_shown_beside_the_field(client, query, changes, message, status):
    response = post_form(client, "/signup", SIGNUP | changes)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert 'class="field-error"' in html and message in html
    assert query(lambda s: s.scalar(select(User))) is None
    assert session_cookie(client) is None


def test_signup_with_a_taken_email_is_a_conflict(client, make_user):
    make_user(email="new.person@example.com")
    response = post_form(client, "/signup", SIGNUP | {"email": "New.Person@Example.com"})
    assert response.status_code == 409
    assert "An account with this email already exists." in response.get_data(as_text=True)


def test_login_sets_a_fresh_session_and_respects_a_local_next(client, make_user, query):
    user = make_user()
    token = fetch_csrf(client, "/login?next=/account/sessions")
    response = client.post("/login?next=/account/sessions",
                           data={"csrf_token": token, "email": user["email"],
                                 "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sessions"
    first = session_cookie(client).value
    # Signing in again while signed in (the login page itself redirects, so post directly).
    response = post_form(client, "/login", {"email": user["email"],
                                            "password": DEFAULT_PASSWORD}, csrf_path="/signup")
    assert response.status_code == 302
    second = session_cookie(client).value
    assert first != second  # a new id on every login
    rows = query(lambda s: s.scalars(select(AuthSession).order_by(AuthSession.created_at)).all())
    assert [row.end_reason for row in rows] == ["replaced", None]


def test_a_planted_session_cookie_is_replaced_at_login(client, make_user):
    user = make_user()
    client.set_cookie("tessera_session", "planted-by-an-attacker")
    login(client, user["email"])
    assert session_cookie(client).value != "planted-by-an-attacker"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, make_user, target):
    user = make_user()
    token = fetch_csrf(client, "/login")
    response = client.post("/login", query_string={"next": target},
                           data={"csrf_token": token, "email": user["email"],
                                 "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/account"


def test_wrong_password_and_unknown_email_look_the_same(client, make_user):
    user = make_user()
    answers = []
    for email in (user["email"], "nobody@example.com"):
        response = post_form(client, "/login", {"email": email, "password": "wrong password!"})
        answers.append((response.status_code,
                        "Incorrect email or password." in response.get_data(as_text=True)))
    assert answers == [(401, True), (401, True)]
    assert session_cookie(client) is None


def test_failed_login_is_audited_even_though_the_request_failed(client, make_user, query):
    user = make_user()
    post_form(client, "/login", {"email": user["email"], "password": "wrong password!"})
    events = query(lambda s: s.scalars(select(AuditEvent.event)).all())
    assert "login.failed" in events


@pytest.mark.parametrize("data, message", [
    ({"email": "", "password": ""}, "This field is required."),
    ({"email": "x@example.com", "password": "p" * 1025}, "Field cannot be longer"),
])
def test_login_bad_input_is_a_400_with_the_field_named(client, data, message):
    response = post_form(client, "/login", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_too_many_attempts_answer_429_with_retry_after(app_factory, make_user):
    app = app_factory(LOGIN_ACCOUNT_LIMIT="2 per 15 minutes")
    client = app.test_client()
    user = make_user()
    for _ in range(2):
        post_form(client, "/login", {"email": user["email"], "password": "wrong password!"})
    response = post_form(client, "/login", {"email": user["email"],
                                            "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many attempts" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/login", "/signup", "/logout", "/account",
                                  "/account/password", "/account/sessions/end",
                                  "/account/sessions/end-others"])
def test_every_form_refuses_a_post_without_its_csrf_token(client, make_user, path):
    login(client, make_user()["email"])
    response = client.post(path, data={"email": "x@example.com", "password": "whatever"})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_logout_asks_on_get_and_ends_the_session_on_post(client, make_user, query):
    login(client, make_user()["email"])
    confirm = client.get("/logout")
    assert confirm.status_code == 200
    assert "Sign out of Tessera on this device?" in confirm.get_data(as_text=True)
    assert query(lambda s: s.scalar(select(AuthSession)).ended_at) is None
    response = post_form(client, "/logout", {})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert session_cookie(client) is None
    row = query(lambda s: s.scalar(select(AuthSession)))
    assert row.end_reason == "logout"
    assert client.get("/account").status_code == 302


def test_a_stolen_cookie_stops_working_after_logout(app, make_user):
    user = make_user()
    browser = app.test_client()
    login(browser, user["email"])
    stolen = session_cookie(browser).value
    post_form(browser, "/logout", {})
    attacker = app.test_client()
    attacker.set_cookie("tessera_session", stolen)
    response = attacker.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_pages_for_a_signed_in_person_are_not_cached(client, make_user):
    login(client, make_user()["email"])
    assert client.get("/account").headers["Cache-Control"] == "no-store"
