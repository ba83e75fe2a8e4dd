"""A relying party built on a certified OpenID library works against Tessera unchanged.

tests/rp/rp.mjs uses openid-client (Node) exactly as its documentation shows; the only
non-default setting is allowInsecureRequests, because the live test server is plain http.
openid-client validates everything a strict RP must: the discovered issuer, the RFC 9207
`iss` authorization response parameter, state, PKCE, the ID token's signature against the
discovered JWKS, iss, aud, azp, exp, iat, nonce and at_hash, and userinfo's `sub`.

The person's part (sign in, consent) happens in Chromium; the callback lands on a loopback
URL where nothing listens, so the browser's navigation to it is intercepted.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import socket
import subprocess
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.models import AuthSession
from tests.conftest import IN_CI
from tests.support.flow import make_client

pytestmark = [pytest.mark.rp, pytest.mark.browser]

RP_DIR = Path(__file__).parent
RP_SCRIPT = RP_DIR / "rp.mjs"


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, once `npm ci --prefix tests/rp` has installed openid-client."""
    node, npm = shutil.which("node"), shutil.which("npm")
    missing = None
    if node is None or npm is None:
        missing = "node and npm are needed for the openid-client relying party"
    elif not (RP_DIR / "node_modules" / "openid-client").is_dir():
        missing = ("tests/rp/node_modules is absent: run "
                   "`npm ci --prefix tests/rp --no-audit --no-fund`")
    if missing:
        if IN_CI:
            pytest.fail(f"the openid-client RP test must run under CI: {missing}")
        pytest.skip(missing)
    return node


def run_rp(node: str, step: str, **options) -> dict:
    args = [node, str(RP_SCRIPT), step]
    for name, value in options.items():
        # `--name=value`: a random client id may begin with a dash, which node's parseArgs
        # would otherwise take for an option.
        args.append(f"--{name.replace('_', '-')}={value}")
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=RP_DIR,
                          env={**os.environ, "NODE_NO_WARNINGS": "1"})
    assert done.stdout.strip(), f"rp.mjs {step} printed nothing; stderr:\n{done.stderr}"
    result = json.loads(done.stdout)
    assert done.returncode == 0 and "fatal" not in result, (
        f"rp.mjs {step} failed: {json.dumps(result.get('fatal'), indent=2)}\n{done.stderr}")
    return result


def free_loopback_port() -> int:
    """A port on 127.0.0.1 where nothing listens (the RP's callback is intercepted)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RelyingPartySite:
    """The RP's pages on its loopback origin, served by intercepting the browser (page.route).

    Its home page holds one link (to the authorization or end-session URL), which the person
    clicks as on a real site; every other path is recorded as a callback. Starting from a
    click also matters to Playwright: its routes do not see the redirect target of a
    page.goto() (microsoft/playwright#33882), only that of a navigation the page starts.
    """

    def __init__(self, page: Page, origin: str) -> None:
        self.page, self.origin = page, origin
        self.urls: list[str] = []
        self._link = ""
        page.route(f"{origin}/**", self._answer)

    def _answer(self, route) -> None:
        if urlsplit(route.request.url).path == "/":
            body = f'<a href="{html.escape(self._link)}">Continue to Tessera</a>'
        else:
            self.urls.append(route.request.url)
            body = "<p>Back at the relying party.</p>"
        route.fulfill(status=200, content_type="text/html",
                      body=f"<!doctype html><title>Node RP</title>{body}")

    def follow(self, url: str) -> None:
        self._link = url
        self.page.goto(f"{self.origin}/")
        self.page.get_by_role("link", name="Continue to Tessera").click()


def test_openid_client_relying_party_completes_the_code_flow_unchanged(
        node, app, live_server, page: Page, make_user, query):
    port = free_loopback_port()
    rp_origin = f"http://127.0.0.1:{port}"
    redirect_uri, post_logout_uri = f"{rp_origin}/callback", f"{rp_origin}/signed-out"
    rp = make_client(app, name="Node RP", redirect_uris=[redirect_uri],
                     post_logout_redirect_uris=[post_logout_uri],
                     grant_types=("authorization_code", "refresh_token"))
    person = make_user(first_name="Grace", last_name="Hopper", email_verified=True)
    common = {"issuer": live_server, "client_id": rp["client_id"],
              "client_secret": rp["client_secret"], "redirect_uri": redirect_uri,
              "id_token_alg": rp["id_token_signed_response_alg"]}

    # 1. The RP discovers Tessera and builds its authorization URL.
    start = run_rp(node, "authorize", **common)
    url = urlsplit(start["authorization_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{live_server}/oauth2/authorize"
    sent = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert sent["code_challenge_method"] == "S256" and sent["nonce"] == start["nonce"]

    # 2. The person signs in and consents in the browser.
    site = RelyingPartySite(page, rp_origin)
    site.follow(start["authorization_url"])
    expect(page).to_have_url(re.compile(r"/login\?"))
    page.get_by_label("Email").fill(person["email"])
    page.get_by_label("Password", exact=True).fill(person["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#client-name")).to_have_text("Node RP")
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(redirect_uri)}\?"))
    assert len(site.urls) == 1
    callback_url = site.urls[0]
    returned = parse_qs(urlsplit(callback_url).query)
    assert returned["code"] and returned["state"] == [start["state"]]
    assert returned["iss"] == [live_server]

    # 3. The RP exchanges the code and validates everything, then uses the other endpoints.
    result = run_rp(node, "callback", **common, callback_url=callback_url,
                    code_verifier=start["code_verifier"], state=start["state"],
                    nonce=start["nonce"], post_logout_redirect_uri=post_logout_uri,
                    logout_state="bye-123")
    assert result["server_metadata"] == {
        "issuer": live_server, "authorization_response_iss_parameter_supported": True}
    tokens = result["tokens"]
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["has_access_token"] and tokens["has_refresh_token"] and tokens["has_id_token"]
    assert set(tokens["scope"].split()) == {"openid", "profile", "email", "offline_access"}
    claims = result["id_token_claims"]
    assert claims["sub"] == person["id"] and claims["nonce"] == start["nonce"]
    assert claims["iss"] == live_server and claims["aud"] == rp["client_id"]
    assert claims["amr"] == ["pwd"] and claims["sid"] and "at_hash" in claims

    assert result["userinfo"]["ok"], result["userinfo"]
    userinfo = result["userinfo"]["claims"]
    assert userinfo["sub"] == person["id"] and userinfo["email"] == person["email"]
    assert userinfo["email_verified"] is True and userinfo["name"] == "Grace Hopper"

    assert result["refreshed"]["ok"], result["refreshed"]
    refreshed = result["refreshed"]
    assert refreshed["rotated"] and refreshed["new_access_token"]
    assert refreshed["id_token_claims"]["sub"] == person["id"]
    assert "nonce" not in refreshed["id_token_claims"]

    assert result["introspection"]["ok"], result["introspection"]
    introspection = result["introspection"]["response"]
    assert introspection["active"] is True
    assert introspection["sub"] == person["id"]
    assert introspection["client_id"] == rp["client_id"]

    assert result["revocation"]["ok"], result["revocation"]
    after = result["refresh_after_revocation"]
    assert not after["ok"], "a revoked refresh token still refreshed"
    assert after["error"].get("error") == "invalid_grant", after

    assert result["end_session_url"]["ok"], result["end_session_url"]
    end_session_url = result["end_session_url"]["url"]
    logout = urlsplit(end_session_url)
    assert f"{logout.scheme}://{logout.netloc}{logout.path}" == f"{live_server}/oauth2/logout"

    # 4. RP-initiated logout: the id_token_hint names this browser's session, so it ends
    # at once (no confirmation page) and the browser returns to the RP with its state.
    site.follow(end_session_url)
    expect(page).to_have_url(re.compile(rf"^{re.escape(post_logout_uri)}\?"))
    assert site.urls[-1] == page.url
    landed = parse_qs(urlsplit(page.url).query)
    assert landed["state"] == ["bye-123"]
    sid = uuid.UUID(claims["sid"])
    ended = query(lambda s: s.scalar(select(AuthSession.ended_at)
                                     .where(AuthSession.id == sid)))
    assert ended is not None
    page.goto(f"{live_server}/account")
    expect(page).to_have_url(re.compile(r"/login\?"))
