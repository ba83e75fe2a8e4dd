"""The authorization code flow through the hosted pages, in Chromium, against the live server.

The relying party's redirect URI is a loopback URL where nothing listens: the browser's
navigations to that origin are intercepted (page.route): its home page offers a sign-in
link, its callback is recorded. The person starts every request by clicking that link, as
on a real site; this also matters to Playwright, whose routes do not see the redirect
target of a page.goto() (microsoft/playwright#33882), only that of a navigation the page
itself starts. The relying party's back channel (the token
exchange) runs from Python with httpx, and the ID token is verified with PyJWT against the
served JWKS: a JOSE library independent of the one Tessera signs with.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import socket
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.models import AuthSession
from app.web.consent import SCOPE_WORDS
from tests.support.flow import make_client
from tests.support.pkce import pkce_pair

pytestmark = pytest.mark.browser

SCOPE = "openid profile email"
ALGORITHMS = ["RS256", "ES256", "EdDSA"]


# --- the relying party's side ------------------------------------------------------------

class RelyingParty:
    """A confidential client on a loopback callback; it remembers what each request sent."""

    def __init__(self, app, live_server: str, page: Page) -> None:
        with socket.socket() as probe:  # a port where nothing listens
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.origin = f"http://127.0.0.1:{port}"
        self.redirect_uri = f"{self.origin}/callback"
        self.issuer = live_server
        self.registered = make_client(app, name="Loopback Notes",
                                      redirect_uris=[self.redirect_uri],
                                      post_logout_redirect_uris=[f"{self.origin}/bye"],
                                      grant_types=("authorization_code", "refresh_token"))
        self.client_id = self.registered["client_id"]
        self.callbacks: list[str] = []
        self._link = ""
        page.route(f"{self.origin}/**", self._intercept)

    def _intercept(self, route) -> None:
        if urlsplit(route.request.url).path == "/":
            body = f'<a href="{html.escape(self._link)}">Sign in with Tessera</a>'
        else:
            self.callbacks.append(route.request.url)
            body = "<p>Back at Loopback Notes.</p>"
        route.fulfill(status=200, content_type="text/html",
                      body=f"<!doctype html><title>Loopback Notes</title>{body}")

    def start(self, page: Page, url: str) -> None:
        """The person clicks the RP's sign-in link, which leads to `url`."""
        self._link = url
        page.goto(f"{self.origin}/")
        page.get_by_role("link", name="Sign in with Tessera").click()

    def authorization_url(self, **extra) -> tuple[str, dict]:
        verifier, challenge = pkce_pair()
        sent = {"response_type": "code", "client_id": self.client_id,
                "redirect_uri": self.redirect_uri, "scope": SCOPE,
                "state": uuid.uuid4().hex, "nonce": uuid.uuid4().hex,
                "code_challenge": challenge, "code_challenge_method": "S256", **extra}
        return (f"{self.issuer}/oauth2/authorize?{urlencode(sent)}",
                {**sent, "code_verifier": verifier})

    def last_callback(self) -> dict:
        assert self.callbacks, "the browser never reached the callback"
        url = urlsplit(self.callbacks[-1])
        assert f"{url.scheme}://{url.netloc}{url.path}" == self.redirect_uri
        return {key: values[0] for key, values in parse_qs(url.query).items()}

    def exchange(self, code: str, sent: dict) -> dict:
        response = httpx.post(
            f"{self.issuer}/oauth2/token",
            data={"grant_type": "authorization_code", "code": code,
                  "redirect_uri": self.redirect_uri, "code_verifier": sent["code_verifier"]},
            auth=httpx.BasicAuth(self.client_id, self.registered["client_secret"]),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        assert response.headers["Cache-Control"] == "no-store"
        return response.json()

    def verify_id_token(self, tokens: dict, sent: dict) -> dict:
        """Everything OIDC Core §3.1.3.7 asks of a relying party, with PyJWT."""
        id_token = tokens["id_token"]
        jwks = jwt.PyJWKClient(f"{self.issuer}/.well-known/jwks.json", cache_keys=False)
        signing_key = jwks.get_signing_key_from_jwt(id_token)
        header = jwt.get_unverified_header(id_token)
        assert header["alg"] == self.registered["id_token_signed_response_alg"]
        claims = jwt.decode(
            id_token, signing_key, algorithms=ALGORITHMS, audience=self.client_id,
            issuer=self.issuer,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
                                 "at_hash", "sid", "amr"]},
        )
        assert claims["nonce"] == sent["nonce"]
        assert claims["azp"] == self.client_id
        assert claims["at_hash"] == at_hash(tokens["access_token"], header["alg"])
        assert isinstance(claims["auth_time"], int) and claims["auth_time"] <= claims["iat"]
        return claims


def at_hash(access_token: str, alg: str) -> str:
    """OIDC Core §3.1.3.6: the left half of the hash the signing algorithm uses."""
    digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(
        access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


# --- the person's side -------------------------------------------------------------------

def sign_in(page: Page, email: str, password: str) -> None:
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def rp(app, live_server, page) -> RelyingParty:
    return RelyingParty(app, live_server, page)


@pytest.fixture
def person(make_user):
    return make_user(first_name="Ada", last_name="Lovelace", email_verified=True)


def consented_code(page: Page, rp: RelyingParty, person: dict, **extra) -> tuple[dict, dict]:
    """authorize -> sign in -> consent -> callback; returns (callback params, request sent)."""
    url, sent = rp.authorization_url(**extra)
    rp.start(page, url)
    expect(page).to_have_url(re.compile(r"/login\?next=/oauth2/authorize/resume/"))
    sign_in(page, person["email"], person["password"])
    expect(page).to_have_url(re.compile(r"/consent\?request="))
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(rp.redirect_uri)}\?"))
    return rp.last_callback(), sent


# --- the tests ---------------------------------------------------------------------------

def test_a_person_signs_in_consents_and_the_client_verifies_the_id_token_with_pyjwt(
        page: Page, rp: RelyingParty, person, query):
    url, sent = rp.authorization_url()
    rp.start(page, url)
    expect(page).to_have_url(re.compile(r"/login\?"))
    sign_in(page, person["email"], person["password"])

    # The consent page names the application and says what it asks for in plain words.
    expect(page).to_have_url(re.compile(r"/consent\?request="))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Loopback Notes wants to access your account")
    expect(page.locator("ul.scopes li")).to_have_text(
        [SCOPE_WORDS[scope] for scope in SCOPE.split()])
    expect(page.get_by_text("See your email address")).to_be_visible()
    expect(page.get_by_text(person["email"])).to_be_visible()
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(rp.redirect_uri)}\?"))
    assert len(rp.callbacks) == 1
    callback = rp.last_callback()
    assert set(callback) == {"code", "state", "iss"}
    assert callback["state"] == sent["state"] and callback["iss"] == rp.issuer

    tokens = rp.exchange(callback["code"], sent)
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == SCOPE
    claims = rp.verify_id_token(tokens, sent)
    assert claims["sub"] == person["id"] and claims["amr"] == ["pwd"]

    # sid and auth_time describe the browser's own sign-in session.
    session = query(lambda s: s.get(AuthSession, uuid.UUID(claims["sid"])))
    assert session is not None and str(session.user_id) == person["id"]
    assert session.ended_at is None
    assert claims["auth_time"] == int(session.auth_time.timestamp())


def test_prompt_login_shows_the_sign_in_page_again_and_moves_auth_time(
        page: Page, rp: RelyingParty, person, query):
    callback, sent = consented_code(page, rp, person)
    first = rp.verify_id_token(rp.exchange(callback["code"], sent), sent)

    # auth_time has one-second resolution: let a second pass so a new sign-in shows.
    time.sleep(max(0.0, first["auth_time"] + 1.1 - time.time()))

    # Already signed in and consented: without prompt the callback comes straight back.
    url, sent = rp.authorization_url()
    rp.start(page, url)
    expect(page).to_have_url(re.compile(rf"^{re.escape(rp.redirect_uri)}\?"))
    silent = rp.verify_id_token(rp.exchange(rp.last_callback()["code"], sent), sent)
    assert silent["auth_time"] == first["auth_time"] and silent["sid"] == first["sid"]

    # prompt=login: the sign-in page again, even though the session is alive.
    url, sent = rp.authorization_url(prompt="login")
    rp.start(page, url)
    expect(page).to_have_url(re.compile(r"/login\?"))
    expect(page.get_by_text("Please confirm it is you by signing in again.")).to_be_visible()
    sign_in(page, person["email"], person["password"])
    expect(page).to_have_url(re.compile(rf"^{re.escape(rp.redirect_uri)}\?"))
    callback = rp.last_callback()
    assert callback["state"] == sent["state"] and callback["iss"] == rp.issuer
    again = rp.verify_id_token(rp.exchange(callback["code"], sent), sent)
    assert again["sub"] == first["sub"]
    assert again["auth_time"] > first["auth_time"]
    assert again["sid"] != first["sid"]  # a new sign-in is a new session
    old = query(lambda s: s.scalar(select(AuthSession.ended_at)
                                   .where(AuthSession.id == uuid.UUID(first["sid"]))))
    assert old is not None


def test_denying_consent_returns_access_denied_to_the_callback(page: Page, rp: RelyingParty,
                                                                person):
    url, sent = rp.authorization_url()
    rp.start(page, url)
    sign_in(page, person["email"], person["password"])
    expect(page).to_have_url(re.compile(r"/consent\?request="))
    page.get_by_role("button", name="Deny").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(rp.redirect_uri)}\?"))
    callback = rp.last_callback()
    assert callback["error"] == "access_denied"
    assert callback["state"] == sent["state"] and callback["iss"] == rp.issuer
    assert "code" not in callback

    # Nothing was granted: the next request asks for consent again.
    url, _ = rp.authorization_url()
    rp.start(page, url)
    expect(page).to_have_url(re.compile(r"/consent\?request="))
