"""The consent page and the account's connected apps."""

from sqlalchemy import select

from app.models import Consent
from tests.conftest import login, post_form
from tests.support.flow import (
    REDIRECT_URI,
    authorize_params,
    exchange,
    follow_to_code,
    make_client,
)
from tests.support.pkce import pkce_pair


def test_consent_page_names_the_client_and_explains_each_scope(app, client, make_user):
    rp = make_client(app, name="Calendar Pro", scope="openid email phone offline_access")
    login(client, make_user()["email"])
    response = client.get("/oauth2/authorize", query_string=authorize_params(
        rp, pkce_pair()[1], scope="openid email phone offline_access"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Calendar Pro" in page
    for words in ("Sign you in with your Tessera account", "See your email address",
                  "See your phone number", "Stay connected when you are not using the app"):
        assert words in page


def test_consent_page_needs_a_signed_in_person_and_a_live_request(app, client, make_user):
    assert client.get("/consent?request=whatever").status_code == 302
    login(client, make_user()["email"])
    response = client.get("/consent?request=not-a-request")
    assert response.status_code == 400


def test_consent_post_without_csrf_is_refused(app, client, make_user):
    rp = make_client(app)
    login(client, make_user()["email"])
    location = client.get("/oauth2/authorize", query_string=authorize_params(
        rp, pkce_pair()[1])).headers["Location"]
    response = client.post("/consent", data={"allow": "Allow",
                                             "request": location.split("request=")[1]})
    assert response.status_code == 400


def test_connected_apps_lists_and_revokes_a_grant_and_its_tokens(app, client, make_user,
                                                                 query):
    rp = make_client(app, name="Calendar Pro")
    login(client, make_user()["email"])
    verifier, challenge = pkce_pair()
    code = follow_to_code(client, rp, challenge)["code"]
    tokens = exchange(client, rp, code, verifier).get_json()
    page = client.get("/account/apps").get_data(as_text=True)
    assert "Calendar Pro" in page and "See your email address" in page
    response = post_form(client, "/account/apps/revoke", {"client_id": rp["client_id"]},
                         csrf_path="/account/apps")
    assert response.status_code == 303
    assert "No applications can access your account." in client.get("/account/apps").get_data(
        as_text=True)
    assert query(lambda s: s.scalar(select(Consent)).revoked_at) is not None
    refreshed = client.post("/oauth2/token", data={"grant_type": "refresh_token",
                                                   "refresh_token": tokens["refresh_token"]},
                            auth=(rp["client_id"], rp["client_secret"]))
    assert refreshed.get_json()["error"] == "invalid_grant"
    # Consent is asked again next time.
    again = client.get("/oauth2/authorize", query_string=authorize_params(rp, challenge))
    assert again.headers["Location"].startswith("/consent?request=")
    assert REDIRECT_URI not in again.headers["Location"]


def test_revoking_an_unknown_app_changes_nothing(client, make_user):
    login(client, make_user()["email"])
    response = post_form(client, "/account/apps/revoke", {"client_id": "nope"},
                         csrf_path="/account")
    assert response.status_code == 303
    assert "This app is not connected." in client.get("/account/apps").get_data(as_text=True)
