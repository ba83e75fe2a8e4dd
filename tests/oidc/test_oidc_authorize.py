"""/oauth2/authorize: what is refused, how, and where the answer goes."""

import time

import pytest

from tests.conftest import login, post_form
from tests.support.flow import (
    REDIRECT_URI,
    authorize_params,
    callback_params,
    follow_to_code,
    make_client,
)
from tests.support.pkce import pkce_pair


@pytest.fixture
def rp(app):
    return make_client(app, redirect_uris=[REDIRECT_URI, "http://127.0.0.1:8400/cb"])


@pytest.fixture
def person(client, make_user):
    user = make_user()
    login(client, user["email"])
    return user


def authorize(client, rp, **extra):
    return client.get("/oauth2/authorize",
                      query_string=authorize_params(rp, pkce_pair()[1], **extra))


@pytest.mark.parametrize("redirect_uri", [
    "https://rp.example.com/callback/../admin",
    "https://rp.example.com/callback?extra=1",
    "https://RP.example.com/callback",
    "https://rp.example.com/Callback",
    "https://rp.example.com/callback/",
    "https://rp.example.com@evil.example/callback",
    "https://evil.example/callback",
    "https://rp.example.com.evil.example/callback",
    "http://rp.example.com/callback",
    "https://rp.example.com/callback#frag",
    "",
])
def test_a_redirect_uri_that_is_not_registered_exactly_gets_a_page_not_a_redirect(
        client, rp, person, redirect_uri):
    # Everything else about the request is wrong too; still no redirect.
    response = authorize(client, rp, redirect_uri=redirect_uri, response_type="token",
                         scope="nonsense")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "redirect_uri" in response.get_data(as_text=True)


def test_an_unknown_client_gets_a_page_not_a_redirect(client, person):
    response = client.get("/oauth2/authorize", query_string={
        "client_id": "nobody", "redirect_uri": REDIRECT_URI, "response_type": "code"})
    assert response.status_code == 400 and "Location" not in response.headers
    assert "not registered" in response.get_data(as_text=True)


def test_a_repeated_client_id_gets_a_page(client, rp, person):
    response = client.get(f"/oauth2/authorize?client_id={rp['client_id']}"
                          f"&client_id={rp['client_id']}&redirect_uri={REDIRECT_URI}")
    assert response.status_code == 400 and "Location" not in response.headers


def test_loopback_redirect_may_use_another_port(client, rp, person):
    follow_to_code(client, rp, pkce_pair()[1])  # consent once
    response = authorize(client, rp, redirect_uri="http://127.0.0.1:51234/cb")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("http://127.0.0.1:51234/cb?")


@pytest.mark.parametrize("extra, error", [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": None}, "invalid_request"),
    ({"scope": "openid admin"}, "invalid_scope"),
    ({"scope": None}, "invalid_scope"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ({"code_challenge": "too-short"}, "invalid_request"),
    ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
    ({"request_uri": "https://rp.example.com/req"}, "request_uri_not_supported"),
    ({"prompt": "none login"}, "invalid_request"),
    ({"prompt": "sometimes"}, "invalid_request"),
    ({"max_age": "-1"}, "invalid_request"),
    ({"claims": "{not json"}, "invalid_request"),
    ({"claims": '{"userinfo": ' + "[" * 1500}, "invalid_request"),  # too deep to parse
    ({"id_token_hint": "not.a.token"}, "invalid_request"),
])
def test_bad_requests_are_returned_to_the_client_with_state_and_iss(app, client, rp, person,
                                                                    extra, error):
    response = authorize(client, rp, **extra)
    assert response.status_code == 302
    callback = callback_params(response.headers["Location"])
    assert callback["error"] == error
    assert callback["state"] == "state-123"
    assert callback["iss"] == app.config["ISSUER"]
    assert "code" not in callback


def test_unknown_parameters_are_ignored(client, rp, person):
    follow_to_code(client, rp, pkce_pair()[1], something_new="1")


def test_prompt_none_without_a_session_is_login_required(app, rp):
    response = authorize(app.test_client(), rp, prompt="none")
    assert callback_params(response.headers["Location"])["error"] == "login_required"


def test_prompt_none_without_consent_is_consent_required(client, rp, person):
    response = authorize(client, rp, prompt="none")
    assert callback_params(response.headers["Location"])["error"] == "consent_required"


def test_prompt_none_with_session_and_consent_returns_a_code(client, rp, person):
    follow_to_code(client, rp, pkce_pair()[1])
    response = authorize(client, rp, prompt="none")
    assert "code" in callback_params(response.headers["Location"])


@pytest.mark.parametrize("extra", [{"prompt": "login"}, {"max_age": "0"}])
def test_prompt_login_and_max_age_force_a_fresh_sign_in(client, rp, person, extra):
    follow_to_code(client, rp, pkce_pair()[1])  # consent once
    response = authorize(client, rp, **extra)
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=") and "reauth=True" in login_url
    page = client.get(login_url)
    assert page.status_code == 200 and "signing in again" in page.get_data(as_text=True)
    time.sleep(1.1)  # auth_time has one-second resolution in the ID token
    response = post_form(client, login_url, {"email": person["email"],
                                             "password": person["password"]})
    response = client.get(response.headers["Location"])
    assert "code" in callback_params(response.headers["Location"])


def test_prompt_consent_asks_again(client, rp, person):
    follow_to_code(client, rp, pkce_pair()[1])
    response = authorize(client, rp, prompt="consent")
    assert response.headers["Location"].startswith("/consent?request=")


@pytest.mark.parametrize("mode", ["fragment", "form_post"])
def test_response_modes(client, rp, person, mode):
    follow_to_code(client, rp, pkce_pair()[1])
    response = authorize(client, rp, response_mode=mode)
    if mode == "fragment":
        assert response.headers["Location"].startswith(REDIRECT_URI + "#code=")
        assert "&iss=" in response.headers["Location"]
    else:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'action="{REDIRECT_URI}"' in html and 'name="code"' in html
        assert 'name="iss"' in html and 'name="state" value="state-123"' in html
        assert response.headers["Cache-Control"] == "no-store"


def test_authorize_accepts_post(client, rp, person):
    follow_to_code(client, rp, pkce_pair()[1])
    response = client.post("/oauth2/authorize", data=authorize_params(rp, pkce_pair()[1]))
    assert "code" in callback_params(response.headers["Location"])


def test_a_parked_request_cannot_be_resumed_by_another_browser(app, client, rp):
    response = authorize(client, rp)
    resume = response.headers["Location"].split("next=")[1]
    stranger = app.test_client()
    assert stranger.get(resume).status_code == 400


def test_a_skip_consent_client_asks_nothing(app, client, person):
    first_party = make_client(app, name="Own app", skip_consent=True)
    callback = follow_to_code(client, first_party, pkce_pair()[1])
    assert "code" in callback


def test_login_hint_prefills_the_email(app, rp):
    client = app.test_client()
    response = authorize(client, rp, login_hint="ada@example.com")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="ada@example.com"' in page
