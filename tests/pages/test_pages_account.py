"""Account pages over HTTP: profile, password, sessions."""

import pytest
from sqlalchemy import select

from app.models import AuthSession, User
from tests.conftest import DEFAULT_PASSWORD, login, post_form


@pytest.fixture
def signed_in(client, make_user):
    user = make_user(first_name="Ada", last_name="Lovelace")
    login(client, user["email"])
    return user


@pytest.mark.parametrize("path", ["/account", "/account/password", "/account/sessions"])
def test_account_pages_send_a_stranger_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_profile_shows_and_saves_the_person_s_details(client, signed_in, query):
    page = client.get("/account").get_data(as_text=True)
    assert signed_in["email"] in page and "Ada Lovelace" in page
    response = post_form(client, "/account", {"first_name": "Augusta", "last_name": "King",
                                              "username": "augusta", "phone": "+44 20 7946 0000"})
    assert response.status_code == 302
    user = query(lambda s: s.scalar(select(User)))
    assert (user.first_name, user.last_name, user.username, user.phone) == (
        "Augusta", "King", "augusta", "+44 20 7946 0000")
    assert "Profile saved." in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize("changes, message", [
    ({"phone": "call me maybe"}, "Enter a valid phone number."),
    ({"username": "a"}, "Username must be"),
    ({"first_name": "x" * 101}, "Field cannot be longer than 100 characters."),
])
def test_profile_bad_input_is_a_400_beside_the_field(client, signed_in, query, changes,
                                                    message):
    response = post_form(client, "/account", {"first_name": "Ada", "last_name": "L"} | changes)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert query(lambda s: s.scalar(select(User)).last_name) == "Lovelace"


def test_profile_refuses_a_username_someone_else_has(client, signed_in, make_user):
    make_user(username="taken")
    response = post_form(client, "/account", {"username": "TAKEN"})
    assert response.status_code == 409
    assert "This username is taken." in response.get_data(as_text=True)


def test_password_change_keeps_this_session_and_ends_the_others(app, client, signed_in,
                                                                 query):
    other_device = app.test_client()
    login(other_device, signed_in["email"])
    response = post_form(client, "/account/password", {
        "current_password": DEFAULT_PASSWORD, "new_password": "an entirely new passphrase",
        "new_password_confirm": "an entirely new passphrase"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302
    login(app.test_client(), signed_in["email"], "an entirely new passphrase")


@pytest.mark.parametrize("data, status, message", [
    ({"current_password": "not my password", "new_password": "an entirely new passphrase",
      "new_password_confirm": "an entirely new passphrase"}, 400,
     "The current password is incorrect."),
    ({"current_password": DEFAULT_PASSWORD, "new_password": "qwerty123",
      "new_password_confirm": "qwerty123"}, 400, "too common"),
    ({"current_password": DEFAULT_PASSWORD, "new_password": "an entirely new passphrase",
      "new_password_confirm": "a different one"}, 400, "Passwords do not match."),
    ({"current_password": "", "new_password": "", "new_password_confirm": ""}, 400,
     "This field is required."),
])
def test_password_change_bad_input(client, signed_in, query, data, status, message):
    before = query(lambda s: s.scalar(select(User)).password_hash)
    response = post_form(client, "/account/password", data)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert query(lambda s: s.scalar(select(User)).password_hash) == before


def test_sessions_page_lists_sessions_and_ends_another_one(app, client, signed_in, query):
    other_device = app.test_client()
    login(other_device, signed_in["email"])
    page = client.get("/account/sessions").get_data(as_text=True)
    assert page.count('class="session"') == 2 and "this device" in page
    other_id = query(lambda s: s.scalars(
        select(AuthSession.id).order_by(AuthSession.created_at.desc())).first())
    response = post_form(client, "/account/sessions/end", {"session_id": str(other_id)},
                         csrf_path="/account/sessions")
    assert response.status_code == 303
    assert other_device.get("/account").status_code == 302
    assert client.get("/account").status_code == 200


def test_ending_an_unknown_session_changes_nothing(client, signed_in, query):
    response = post_form(client, "/account/sessions/end", {"session_id": "not-a-session"},
                         csrf_path="/account")
    assert response.status_code == 303
    assert "Session not found." in client.get("/account/sessions").get_data(as_text=True)
    assert query(lambda s: s.scalar(select(AuthSession)).ended_at) is None


def test_sign_out_all_other_sessions(app, client, signed_in):
    devices = [app.test_client() for _ in range(2)]
    for device in devices:
        login(device, signed_in["email"])
    response = post_form(client, "/account/sessions/end-others", {},
                         csrf_path="/account/sessions")
    assert response.status_code == 303
    assert "Signed out 2 other sessions." in client.get("/account/sessions").get_data(
        as_text=True)
    assert [device.get("/account").status_code for device in devices] == [302, 302]
    assert client.get("/account").status_code == 200
