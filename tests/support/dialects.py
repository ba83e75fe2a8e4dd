"""How each JSON dialect does the common things, so one scenario suite can run over all five.

An adapter knows its document's paths, field names and where the tokens sit in a reply;
nothing else. A dialect whose document lacks an operation says so with None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.conftest import DEFAULT_PASSWORD


@dataclass
class Adapter:
    id: str
    register: Callable  # (client, email, password, context) -> response
    login: Callable  # (client, email, password, context) -> response
    access_token: Callable[[dict], str]
    me_path: str
    email_of_me: Callable[[dict], str]
    refresh: Callable | None  # (client, login_body, context) -> response
    logout: Callable | None  # (client, login_body, context) -> response
    error_code: Callable[[dict], str]
    register_status: int = 201

    def bearer(self, body: dict) -> dict:
        return {"Authorization": f"Bearer {self.access_token(body)}"}


def _json(client, method, path, body=None, headers=None):
    return client.open(path, method=method, json=body, headers=headers or {})


def _cosmicsync() -> Adapter:
    return Adapter(
        id="cosmicsync",
        register=lambda c, e, p, ctx: _json(c, "POST", "/auth/register", {
            "email": e, "password": p, "username": e.split("@")[0].replace(".", "_")[:30],
            "application_id": ctx["application_id"]}),
        login=lambda c, e, p, ctx: _json(c, "POST", "/auth/login", {
            "email": e, "password": p, "application_id": ctx["application_id"]}),
        access_token=lambda body: body["token"],
        me_path="/users/me",
        email_of_me=lambda body: body["email"],
        refresh=lambda c, body, ctx: _json(c, "POST", "/auth/refresh",
                                           headers={"Authorization": f"Bearer {body['token']}"}),
        logout=None,
        error_code=lambda body: body["error"],
    )


def _apiauth() -> Adapter:
    return Adapter(
        id="apiauth",
        register=lambda c, e, p, ctx: _json(c, "POST", "/api/auth/register", {
            "username": e.split("@")[0].replace(".", "_")[:30], "email": e, "password": p,
            "passwordConfirm": p}),
        login=lambda c, e, p, ctx: _json(c, "POST", "/api/auth/login",
                                         {"email": e, "password": p}),
        access_token=lambda body: body["token"],
        me_path="/api/auth/me",
        email_of_me=lambda body: body["data"]["user"]["email"],
        refresh=None,
        logout=lambda c, body, ctx: _json(c, "POST", "/api/auth/logout",
                                          headers={"Authorization": f"Bearer {body['token']}"}),
        error_code=lambda body: body.get("code", body.get("status")),
    )


def _apiv1() -> Adapter:
    return Adapter(
        id="apiv1",
        register=lambda c, e, p, ctx: _json(c, "POST", "/api/v1/auth/register", {
            "email": e, "password": p, "firstName": "Ada", "lastName": "Lovelace"}),
        login=lambda c, e, p, ctx: _json(c, "POST", "/api/v1/auth/login",
                                         {"email": e, "password": p}),
        access_token=lambda body: body["data"]["accessToken"],
        me_path="/api/v1/auth/profile",
        email_of_me=lambda body: body["data"]["email"] if "email" in body["data"]
        else body["data"]["user"]["email"],
        refresh=lambda c, body, ctx: _json(c, "POST", "/api/v1/auth/refresh",
                                           {"refreshToken": body["data"]["refreshToken"]}),
        logout=lambda c, body, ctx: _json(c, "POST", "/api/v1/auth/logout",
                                          {"refreshToken": body["data"]["refreshToken"]}),
        error_code=lambda body: body["error"],
    )


def _eventchain() -> Adapter:
    base = "/eventchain/v1/auth"
    return Adapter(
        id="eventchain",
        register=lambda c, e, p, ctx: _json(c, "POST", f"{base}/register", {
            "email": e, "password": p, "firstName": "Ada", "lastName": "Lovelace"}),
        login=lambda c, e, p, ctx: _json(c, "POST", f"{base}/login",
                                         {"email": e, "password": p}),
        access_token=lambda body: body["data"]["accessToken"],
        me_path=f"{base}/profile",
        email_of_me=lambda body: body["data"]["email"] if "email" in body["data"]
        else body["data"]["user"]["email"],
        refresh=lambda c, body, ctx: _json(c, "POST", f"{base}/refresh",
                                           {"refreshToken": body["data"]["refreshToken"]}),
        logout=lambda c, body, ctx: _json(c, "POST", f"{base}/logout", headers={
            "Authorization": f"Bearer {body['data']['accessToken']}"}),
        error_code=lambda body: body["error"]["code"],
    )


def _modernauth() -> Adapter:
    return Adapter(
        id="modernauth",
        register=lambda c, e, p, ctx: _json(c, "POST", "/v1/auth/register",
                                            {"email": e, "password": p}),
        login=lambda c, e, p, ctx: _json(c, "POST", "/v1/auth/login",
                                         {"email": e, "password": p}),
        access_token=lambda body: body["tokens"]["access_token"],
        me_path="/v1/auth/me",
        email_of_me=lambda body: body["email"],
        refresh=lambda c, body, ctx: _json(c, "POST", "/v1/auth/refresh",
                                           {"refresh_token": body["tokens"]["refresh_token"]}),
        logout=lambda c, body, ctx: _json(c, "POST", "/v1/auth/logout", headers={
            "Authorization": f"Bearer {body['tokens']['access_token']}"}),
        error_code=lambda body: body["error"],
    )


ADAPTERS = {adapter.id: adapter for adapter in
            (_cosmicsync(), _apiauth(), _apiv1(), _eventchain(), _modernauth())}
PASSWORD = DEFAULT_PASSWORD
