"""One scenario suite over the five dialects: the same core behind every document."""

import base64
import json
import os
import uuid
from pathlib import Path

import pytest

from tests.conftest import login as page_login
from tests.support.dialects import ADAPTERS, PASSWORD
from tests.support.flow import make_client

DIALECTS = sorted(ADAPTERS)


@pytest.fixture
def context(app):
    # cosmicsync names the application a person uses; any registered client will do.
    return {"application_id": make_client(app, name="Scenario app")["client_id"]}


def fresh_email() -> str:
    return f"person-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture(params=DIALECTS)
def dialect(request):
    return ADAPTERS[request.param]


def signed_in(client, dialect, context):
    email = fresh_email()
    assert dialect.register(client, email, PASSWORD, context).status_code == \
        dialect.register_status
    response = dialect.login(client, email, PASSWORD, context)
    assert response.status_code == 200, response.get_json()
    return email, response.get_json()


def test_register_login_and_me(client, dialect, context):
    email, body = signed_in(client, dialect, context)
    me = client.get(dialect.me_path, headers=dialect.bearer(body))
    assert me.status_code == 200, me.get_json()
    assert dialect.email_of_me(me.get_json()) == email


def test_me_without_a_token_is_401(client, dialect):
    assert client.get(dialect.me_path).status_code == 401


def test_refresh_issues_a_working_token(client, dialect, context):
    if dialect.refresh is None:
        pytest.skip(f"{dialect.id} documents no refresh")
    _, body = signed_in(client, dialect, context)
    response = dialect.refresh(client, body, context)
    assert response.status_code == 200, response.get_json()
    me = client.get(dialect.me_path, headers=dialect.bearer(response.get_json()))
    assert me.status_code == 200


def test_refresh_replay_is_refused(client, dialect, context):
    if dialect.refresh is None:
        pytest.skip(f"{dialect.id} documents no refresh")
    if dialect.id == "cosmicsync":
        pytest.skip("cosmicsync refreshes with the access token, not a refresh token")
    _, body = signed_in(client, dialect, context)
    assert dialect.refresh(client, body, context).status_code == 200
    replay = dialect.refresh(client, body, context)
    assert replay.status_code in (400, 401)


def test_refresh_reuse_ends_the_winners_access_token(client, dialect, context):
    if dialect.refresh is None or dialect.id == "cosmicsync":
        pytest.skip(f"{dialect.id} has no refresh token to reuse")
    _, body = signed_in(client, dialect, context)
    winner = dialect.refresh(client, body, context)
    assert winner.status_code == 200
    assert client.get(dialect.me_path, headers=dialect.bearer(winner.get_json())
                      ).status_code == 200
    assert dialect.refresh(client, body, context).status_code in (400, 401)
    # The family is revoked: the access tokens issued with it stop working as well.
    for tokens in (winner.get_json(), body):
        assert client.get(dialect.me_path, headers=dialect.bearer(tokens)).status_code == 401


def test_logout_ends_the_token_at_once(client, dialect, context):
    if dialect.logout is None:
        pytest.skip(f"{dialect.id} documents no logout")
    _, body = signed_in(client, dialect, context)
    assert dialect.logout(client, body, context).status_code == 200
    assert client.get(dialect.me_path, headers=dialect.bearer(body)).status_code == 401


def test_wrong_password_is_401(client, dialect, context):
    email = fresh_email()
    dialect.register(client, email, PASSWORD, context)
    response = dialect.login(client, email, "not the password at all", context)
    assert response.status_code == 401
    unknown = dialect.login(client, fresh_email(), "not the password at all", context)
    assert (unknown.status_code, unknown.get_json()) == (401, response.get_json())


def test_taken_email_is_409(client, dialect, context):
    email = fresh_email()
    dialect.register(client, email, PASSWORD, context)
    assert dialect.register(client, email, PASSWORD, context).status_code == 409


def test_weak_password_is_400(client, dialect, context):
    response = dialect.register(client, fresh_email(), "password123", context)
    assert response.status_code == 400


def test_missing_field_and_malformed_json_are_400(client, dialect, context):
    login_path = {"cosmicsync": "/auth/login", "apiauth": "/api/auth/login",
                  "apiv1": "/api/v1/auth/login", "eventchain": "/eventchain/v1/auth/login",
                  "modernauth": "/v1/auth/login"}[dialect.id]
    missing = client.post(login_path, json={"password": PASSWORD})
    assert missing.status_code == 400
    assert "email" in str(missing.get_json())
    malformed = client.post(login_path, data="{oops",
                            headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400



def test_a_token_whose_header_is_nested_too_deeply_is_refused_like_garbage(client, dialect):
    header = base64.urlsafe_b64encode(b"[" * 1500).decode().rstrip("=")
    deep = client.get(dialect.me_path, headers={"Authorization": f"Bearer {header}.e30.c2ln"})
    garbage = client.get(dialect.me_path, headers={"Authorization": "Bearer not-a-jwt"})
    assert deep.status_code == 401
    assert deep.get_json() == garbage.get_json()

@pytest.mark.parametrize("origin", DIALECTS)
def test_a_person_registered_in_one_dialect_signs_in_everywhere(app, origin, context):
    client = app.test_client()
    email = fresh_email()
    assert ADAPTERS[origin].register(client, email, PASSWORD, context).status_code == \
        ADAPTERS[origin].register_status
    for other in DIALECTS:
        response = ADAPTERS[other].login(client, email, PASSWORD, context)
        assert response.status_code == 200, (origin, other, response.get_json())
    page_login(app.test_client(), email, PASSWORD)



# --- never cached ----------------------------------------------------------------------------

MOUNTED = {"cosmicsync": "/users", "apiauth": "/api/auth", "apiv1": "/api/v1/auth",
           "eventchain": "/eventchain/v1/auth", "modernauth": "/v1"}


def assert_never_cached(response):
    assert response.headers["Cache-Control"] == "no-store", response.request.path
    assert response.headers["Pragma"] == "no-cache", response.request.path


def test_answers_that_carry_tokens_are_never_cached(client, dialect, context):
    email = fresh_email()
    registered = dialect.register(client, email, PASSWORD, context)
    assert registered.status_code == dialect.register_status
    logged_in = dialect.login(client, email, PASSWORD, context)
    assert logged_in.status_code == 200
    me = client.get(dialect.me_path, headers=dialect.bearer(logged_in.get_json()))
    assert me.status_code == 200
    for response in (registered, logged_in, me):
        assert_never_cached(response)


def test_error_answers_are_never_cached_either(app, client, dialect, context):
    email = fresh_email()
    dialect.register(client, email, PASSWORD, context)
    wrong_password = dialect.login(client, email, "not the password at all", context)
    taken = dialect.register(client, email, PASSWORD, context)
    no_token = app.test_client().get(dialect.me_path)  # apiauth's register set a cookie
    unknown_path = client.get(MOUNTED[dialect.id] + "/no-such-endpoint")
    wrong_method = client.delete(dialect.me_path)
    statuses = [r.status_code for r in (wrong_password, taken, no_token, unknown_path,
                                        wrong_method)]
    assert statuses == [401, 409, 401, 404, 405]
    assert dialect.error_code(unknown_path.get_json())  # the dialect's own envelope
    for response in (wrong_password, taken, no_token, unknown_path, wrong_method):
        assert_never_cached(response)

# --- golden shapes ---------------------------------------------------------------------------

GOLDEN = Path(__file__).parent / "golden"


def shape(value):
    """The structure of a JSON value: keys and types, not the values that change per run."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_each_dialect_keeps_its_documented_envelopes(app, client, dialect, context):
    """Pinned by tests/api/golden/<dialect>.json; regenerate with TESSERA_UPDATE_GOLDEN=1."""
    email, body = signed_in(client, dialect, context)
    observed = {
        "login": shape(body),
        "me": shape(client.get(dialect.me_path, headers=dialect.bearer(body)).get_json()),
        "wrong_password": shape(dialect.login(client, email, "not the password at all",
                                              context).get_json()),
        # A fresh client: apiauth would otherwise find its token in the `jwt` cookie.
        "missing_token": shape(app.test_client().get(dialect.me_path).get_json()),
        "taken_email": shape(dialect.register(client, email, PASSWORD, context).get_json()),
    }
    path = GOLDEN / f"{dialect.id}.json"
    if os.environ.get("TESSERA_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(observed, indent=2, sort_keys=True) + "\n")
    assert observed == json.loads(path.read_text())
