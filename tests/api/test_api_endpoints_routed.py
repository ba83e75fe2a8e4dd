"""Every documented endpoint built so far is routed at its dialect's default mount,
and TESSERA_API_MOUNTS moves dialects or switches them off.

The contract is data/documented_endpoints.tsv: one line per endpoint the dialects' API
documents describe, `dialect, method, path`, paths written with the document's own base.
A dialect mounted elsewhere serves the same paths under its mount.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from app.api import registry
from config.settings import ConfigError
from tests.conftest import DEFAULT_PASSWORD

ENDPOINTS_TSV = Path(__file__).resolve().parent / "data" / "documented_endpoints.tsv"

# dialect -> (documented base, default mount in Tessera).
BASES = {
    "cosmicsync": ("", "/"),
    "apiauth": ("/api/auth", "/api/auth"),
    "apiv1": ("/api/v1/auth", "/api/v1/auth"),
    "eventchain": ("/v1/auth", "/eventchain/v1/auth"),
    "modernauth": ("/v1", "/v1"),
}

# What is built so far (issues 4 and 5, and MFA), written as the endpoint list writes them
# (documented paths).
IN_SCOPE = """
cosmicsync POST /auth/register
cosmicsync POST /auth/login
cosmicsync POST /auth/refresh
cosmicsync GET /users/me
cosmicsync PUT /users/me
cosmicsync POST /users/me/data
cosmicsync GET /users/me/data/{key}
cosmicsync POST /users/{user_id}/roles
cosmicsync GET /users/me/permissions
apiauth POST /api/auth/register
apiauth POST /api/auth/login
apiauth GET /api/auth/me
apiauth POST /api/auth/logout
apiv1 POST /api/v1/auth/register
apiv1 POST /api/v1/auth/login
apiv1 POST /api/v1/auth/logout
apiv1 POST /api/v1/auth/refresh
apiv1 GET /api/v1/auth/profile
apiv1 PUT /api/v1/auth/profile
apiv1 POST /api/v1/auth/change-password
apiv1 POST /api/v1/auth/deactivate-account
apiv1 DELETE /api/v1/auth/delete-account
apiv1 POST /api/v1/auth/unlock-account
apiv1 GET /api/v1/auth/active-sessions
apiv1 POST /api/v1/auth/revoke-all-sessions
apiv1 GET /api/v1/auth/security-activity
eventchain POST /v1/auth/register
eventchain POST /v1/auth/login
eventchain POST /v1/auth/refresh
eventchain POST /v1/auth/logout
eventchain GET /v1/auth/profile
eventchain PUT /v1/auth/profile
eventchain PUT /v1/auth/password
eventchain GET /v1/auth/permissions
modernauth POST /v1/auth/register
modernauth POST /v1/auth/login
modernauth POST /v1/auth/refresh
modernauth POST /v1/auth/logout
modernauth GET /v1/auth/me
modernauth GET /v1/auth/settings
modernauth POST /v1/auth/change-password
modernauth POST /v1/auth/revoke-all-sessions
modernauth GET /v1/sessions
modernauth GET /v1/sessions/history
apiauth POST /api/auth/forgot-password
apiauth PATCH /api/auth/reset-password/{token}
apiv1 POST /api/v1/auth/verify-email
apiv1 POST /api/v1/auth/resend-verification
apiv1 POST /api/v1/auth/forgot-password
apiv1 POST /api/v1/auth/reset-password
apiv1 POST /api/v1/auth/otp/send
apiv1 POST /api/v1/auth/verify-email-otp
apiv1 POST /api/v1/auth/verify-sms-otp
eventchain POST /v1/auth/verify/send
eventchain POST /v1/auth/verify/confirm
eventchain POST /v1/auth/password/reset/request
eventchain POST /v1/auth/password/reset/confirm
modernauth POST /v1/auth/send-verification
modernauth POST /v1/auth/verify-email
modernauth POST /v1/auth/forgot-password
modernauth POST /v1/auth/reset-password
modernauth POST /v1/auth/magic-link/send
modernauth POST /v1/auth/magic-link/verify
cosmicsync POST /auth/mfa/enable
cosmicsync POST /auth/mfa/verify
apiv1 POST /api/v1/auth/mfa/setup
apiv1 POST /api/v1/auth/mfa/enable
apiv1 POST /api/v1/auth/mfa/disable
apiv1 POST /api/v1/auth/verify-mfa
apiv1 POST /api/v1/auth/verify-totp
apiv1 POST /api/v1/auth/reset-user-mfa
modernauth POST /v1/auth/login/mfa
modernauth GET /v1/auth/mfa/status
modernauth POST /v1/auth/mfa/setup
modernauth POST /v1/auth/mfa/enable
modernauth POST /v1/auth/mfa/disable
modernauth POST /v1/auth/mfa/backup-codes
modernauth GET /v1/auth/mfa/backup-codes/count
modernauth POST /v1/auth/mfa/preferred
modernauth POST /v1/auth/login/mfa/backup
modernauth POST /v1/auth/mfa/email/enable
modernauth POST /v1/auth/mfa/email/disable
modernauth POST /v1/auth/login/mfa/email/send
modernauth POST /v1/auth/login/mfa/email
modernauth POST /v1/auth/mfa/webauthn/register/begin
modernauth POST /v1/auth/mfa/webauthn/register/finish
modernauth GET /v1/auth/mfa/webauthn/credentials
modernauth DELETE /v1/auth/mfa/webauthn/credentials
modernauth POST /v1/auth/login/mfa/webauthn/begin
modernauth POST /v1/auth/login/mfa/webauthn/finish
modernauth POST /v1/auth/mfa/trust-device
modernauth POST /v1/auth/mfa/revoke-trust
modernauth GET /v1/devices
modernauth GET /v1/devices/{id}
modernauth DELETE /v1/devices/{id}
modernauth POST /v1/devices/{id}/trust
modernauth DELETE /v1/devices/{id}/trust
"""

# {id}, <id>, <int:id> and :id all name one path segment.
PARAMETER = re.compile(r"\{[^}/]+\}|<[^>/]+>|:[A-Za-z_][A-Za-z0-9_]*")


def normalize(path: str) -> str:
    return PARAMETER.sub("<>", path)


def in_scope() -> list[tuple[str, str, str]]:
    return [tuple(line.split()) for line in IN_SCOPE.strip().splitlines()]


@pytest.fixture(scope="module")
def documented() -> list[tuple[str, str, str]]:
    with ENDPOINTS_TSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [(row["dialect"], row["method"].upper(), row["path"]) for row in rows]


def mounted_path(dialect: str, documented_path: str) -> str:
    base, mount = BASES[dialect]
    if base and not (documented_path == base or documented_path.startswith(base + "/")):
        return documented_path  # outside the document's base (modernauth's /health)
    rest = documented_path[len(base):]
    return (mount.rstrip("/") + rest) or "/"


def routed(app) -> set[tuple[str, str]]:
    return {(method, normalize(rule.rule)) for rule in app.url_map.iter_rules()
            for method in rule.methods}


def is_routed(routes, dialect: str, method: str, documented_path: str) -> bool:
    return (method, normalize(mounted_path(dialect, documented_path))) in routes


def test_every_in_scope_line_is_a_documented_endpoint(documented):
    known = {(d, m, normalize(p)) for d, m, p in documented}
    typos = [" ".join(line) for line in in_scope()
             if (line[0], line[1], normalize(line[2])) not in known]
    assert not typos, f"not in {ENDPOINTS_TSV.name}: {typos}"
    assert len(set(in_scope())) == len(in_scope()), "an in-scope line is listed twice"


def test_default_mounts_are_the_documented_ones():
    for dialect, (_base, mount) in BASES.items():
        assert registry.load(dialect).default_mount == mount, dialect


@pytest.mark.parametrize("dialect", list(BASES))
def test_in_scope_endpoints_are_routed_at_the_default_mount(app, documented, dialect):
    routes = routed(app)
    missing = [f"{method} {path} (expected at {mounted_path(dialect, path)})"
               for d, method, path in in_scope()
               if d == dialect and not is_routed(routes, d, method, path)]
    assert not missing, f"{dialect}: {len(missing)} in-scope endpoints not routed: {missing}"


def test_report_how_many_documented_endpoints_are_routed(app, documented, capsys):
    routes = routed(app)
    by_dialect: dict[str, list[int]] = {}
    for dialect, method, path in documented:
        counts = by_dialect.setdefault(dialect, [0, 0])
        counts[1] += 1
        counts[0] += is_routed(routes, dialect, method, path)
    total = sum(done for done, _ in by_dialect.values())
    detail = ", ".join(f"{d} {done}/{of}" for d, (done, of) in by_dialect.items())
    with capsys.disabled():
        print(f"\nroutes: {total} of {len(documented)} documented endpoints are routed "
              f"({detail})")
    assert set(by_dialect) == set(BASES)


# --- TESSERA_API_MOUNTS -------------------------------------------------------------------------

def test_eventchain_moves_to_its_documented_base_when_modernauth_is_off(app_factory,
                                                                        monkeypatch):
    monkeypatch.setenv("TESSERA_API_MOUNTS", "eventchain=/v1/auth,modernauth=off")
    app = app_factory()
    client = app.test_client()
    registered = client.post("/v1/auth/register", json={
        "email": "ada@example.com", "password": DEFAULT_PASSWORD, "firstName": "Ada",
        "lastName": "Lovelace"})
    assert registered.status_code == 201 and registered.get_json()["success"] is True
    response = client.post("/v1/auth/login", json={"email": "ada@example.com",
                                                   "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert set(response.get_json()["data"]) == {"accessToken", "refreshToken", "user",
                                               "expiresIn"}
    # Under the new mount, eventchain's envelope answers unknown paths.
    missing = client.get("/v1/auth/me")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    # The old mount is gone, and modernauth's other paths are not served.
    assert client.post("/eventchain/v1/auth/login", json={}).status_code == 404
    assert client.get("/v1/sessions").status_code == 404
    document = client.get("/openapi/eventchain.json").get_json()
    assert "/v1/auth/login" in document["paths"]


def test_two_dialects_on_one_path_stop_the_start(app_factory):
    with pytest.raises(ConfigError, match=r"/v1/auth/\S+ is claimed by both"):
        app_factory(API_MOUNTS="eventchain=/v1/auth")


@pytest.mark.parametrize("mounts, named", [
    ("nosuch=/x", "nosuch"),
    ("eventchain=relative", "eventchain"),
    ("eventchain=/a//b", "eventchain"),
    ("eventchain", "eventchain"),
])
def test_bad_mounts_stop_the_start(app_factory, mounts, named):
    with pytest.raises(ConfigError, match=named):
        app_factory(API_MOUNTS=mounts)


def test_a_switched_off_dialect_answers_404_in_the_default_envelope(app_factory):
    client = app_factory(API_MOUNTS="eventchain=off").test_client()
    page = client.post("/eventchain/v1/auth/login", json={"email": "a@example.com",
                                                          "password": DEFAULT_PASSWORD})
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert "success" not in page.get_data(as_text=True)
    openapi = client.get("/openapi/eventchain.json")
    assert openapi.status_code == 404
    assert set(openapi.get_json()) == {"error", "error_description"}
    # The others are still there.
    assert client.get("/v1/auth/settings").status_code == 200


def test_modernauth_switched_off_leaves_v1_unrouted(app_factory):
    client = app_factory(API_MOUNTS="modernauth=off").test_client()
    response = client.get("/v1/auth/settings")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert client.get("/eventchain/v1/auth/profile").status_code == 401
