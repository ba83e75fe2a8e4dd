"""modernauth (docs/dialects/modernauth.md) at /v1: every endpoint this dialect serves."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuthSession
from app.models.types import utcnow
from tests.conftest import DEFAULT_PASSWORD

BASE = "/v1"


def register(client, email="ada@example.com", **extra):
    return client.post(f"{BASE}/auth/register", json={"email": email,
                                                      "password": DEFAULT_PASSWORD, **extra})


def login(client, email="ada@example.com", password=DEFAULT_PASSWORD):
    return client.post(f"{BASE}/auth/login", json={"email": email, "password": password})


def bearer(tokens):
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture
def tokens(client):
    register(client)
    return login(client).get_json()["tokens"]


def test_register_returns_the_user_and_tokens(client):
    response = register(client, first_name="Ada", username="ada")
    assert response.status_code == 201
    body = response.get_json()
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["is_email_verified"] is False
    assert body["tokens"]["token_type"] == "Bearer"
    assert body["tokens"]["expires_in"] == 900
    assert body["tokens"]["refresh_token"].startswith("rt_")


def test_login_me_refresh_logout(client, tokens):
    me = client.get(f"{BASE}/auth/me", headers=bearer(tokens))
    assert me.status_code == 200 and me.get_json()["email"] == "ada@example.com"
    refreshed = client.post(f"{BASE}/auth/refresh",
                            json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    new = refreshed.get_json()["tokens"]
    replay = client.post(f"{BASE}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    # Reuse revoked the whole family, including the token just issued.
    assert client.post(f"{BASE}/auth/refresh",
                       json={"refresh_token": new["refresh_token"]}).status_code == 400


def test_logout_makes_the_token_fail_at_once(client, tokens):
    assert client.post(f"{BASE}/auth/logout", headers=bearer(tokens)).status_code == 200
    response = client.get(f"{BASE}/auth/me", headers=bearer(tokens))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"


@pytest.mark.parametrize("body, field", [
    ({"password": DEFAULT_PASSWORD}, "email"),
    ({"email": "ada@example.com"}, "password"),
    ({"email": 5, "password": DEFAULT_PASSWORD}, "email"),
    ({"email": "ada@example.com", "password": DEFAULT_PASSWORD, "admin": True}, "admin"),
])
def test_register_bad_input_names_the_field(client, body, field):
    response = client.post(f"{BASE}/auth/register", json=body)
    assert response.status_code == 400
    assert response.get_json()["field"] == field


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", ""])
def test_malformed_bodies_are_400_in_the_envelope(client, data):
    response = client.post(f"{BASE}/auth/login", data=data,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "validation"
    assert response.get_json()["field"] == "body"


def test_unknown_path_and_wrong_method_answer_in_the_envelope(client):
    missing = client.get(f"{BASE}/auth/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    wrong = client.get(f"{BASE}/auth/login")
    assert wrong.status_code == 405 and wrong.get_json()["error"] == "method_not_allowed"


def test_sessions_list_history_and_revoke_all(client, tokens):
    other = login(client).get_json()["tokens"]
    listed = client.get(f"{BASE}/sessions", headers=bearer(tokens)).get_json()["sessions"]
    # Registering signed in too: three sessions.
    assert len(listed) == 3 and sum(s["current"] for s in listed) == 1
    history = client.get(f"{BASE}/sessions/history", headers=bearer(tokens)).get_json()
    assert {"login.succeeded"} <= {h["event_type"] for h in history["history"]}
    revoked = client.post(f"{BASE}/auth/revoke-all-sessions", headers=bearer(tokens))
    assert revoked.get_json()["revoked_sessions"] == 3
    for t in (tokens, other):
        assert client.get(f"{BASE}/auth/me", headers=bearer(t)).status_code == 401


def test_token_use_moves_the_sessions_last_seen_time_at_most_once_a_minute(
        app, client, tokens):
    def current_session():
        listed = client.get(f"{BASE}/sessions", headers=bearer(tokens)).get_json()["sessions"]
        return next(row for row in listed if row["current"])

    def set_last_seen(ago: timedelta):
        with app.app_context():
            db.session.execute(update(AuthSession).values(last_seen_at=utcnow() - ago))
            db.session.commit()

    set_last_seen(timedelta(hours=2))
    before = utcnow()
    assert client.get(f"{BASE}/auth/me", headers=bearer(tokens)).status_code == 200
    seen = datetime.fromisoformat(current_session()["last_seen_at"])
    assert seen >= before - timedelta(seconds=1)
    # Within the minute nothing is written.
    set_last_seen(timedelta(seconds=20))
    with app.app_context():
        stamp = db.session.scalars(select(AuthSession.last_seen_at)).all()
    assert client.get(f"{BASE}/auth/me", headers=bearer(tokens)).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(AuthSession.last_seen_at)).all() == stamp


def test_change_password_keeps_this_session_only(client, tokens):
    other = login(client).get_json()["tokens"]
    response = client.post(f"{BASE}/auth/change-password", headers=bearer(tokens),
                           json={"current_password": DEFAULT_PASSWORD,
                                 "new_password": "a completely new phrase"})
    assert response.status_code == 200
    assert client.get(f"{BASE}/auth/me", headers=bearer(tokens)).status_code == 200
    assert client.get(f"{BASE}/auth/me", headers=bearer(other)).status_code == 401
    assert login(client, password="a completely new phrase").status_code == 200
    wrong = client.post(f"{BASE}/auth/change-password", headers=bearer(tokens),
                        json={"current_password": "nope nope nope",
                              "new_password": "another new phrase"})
    assert wrong.status_code == 400 and wrong.get_json()["field"] == "current_password"


def test_settings_are_public(client):
    body = client.get(f"{BASE}/auth/settings").get_json()
    assert body["registration_enabled"] is True and body["password_min_length"] == 8


def test_login_rate_limit_has_headers_and_429(app_factory):
    app = app_factory(API_RATE_LIMITS={"modernauth.login": "2 per 15 minutes"})
    client = app.test_client()
    first = login(client)
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert "X-RateLimit-Reset" in first.headers
    login(client)
    third = login(client)
    assert third.status_code == 429 and third.get_json()["error"] == "rate_limited"
    assert int(third.headers["Retry-After"]) > 0


def test_an_oidc_token_of_a_third_party_app_is_refused_by_the_json_api(app, client,
                                                                      make_user):
    from tests.conftest import login as page_login
    from tests.support.flow import exchange, follow_to_code, make_client
    from tests.support.pkce import pkce_pair

    user = make_user()
    page_login(client, user["email"])
    rp = make_client(app, name="Third party")
    verifier, challenge = pkce_pair()
    code = follow_to_code(client, rp, challenge)["code"]
    oidc_token = exchange(client, rp, code, verifier).get_json()["access_token"]
    response = client.get(f"{BASE}/auth/me", headers={"Authorization": f"Bearer {oidc_token}"})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"


def test_a_deeply_nested_body_is_a_400_not_a_crash(client):
    response = client.post(f"{BASE}/auth/login", data="[" * 50_000,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["field"] == "body"


def test_an_unexpected_error_answers_in_the_envelope_without_a_trace(app):
    def explode():
        raise RuntimeError("secret internals")

    app.view_functions["api_modernauth.settings"] = explode
    response = app.test_client().get(f"{BASE}/auth/settings")
    assert response.status_code == 500
    assert response.get_json() == {"error": "server_error",
                                   "message": "An unexpected error occurred."}
