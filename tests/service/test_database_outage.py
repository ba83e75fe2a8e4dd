"""While PostgreSQL is unreachable or frozen, Tessera answers 503 with Retry-After in each
surface's shape within its timeouts, discovery and JWKS keep answering from memory, /health
says what is wrong, and everything works again once the database is back.

PostgreSQL sits behind a TCP proxy the test controls (tests/support/tcp_proxy.py); the app
is served over real HTTP so a request that hangs is seen as one (the client gives up after
NOT_HUNG seconds, far beyond the small timeouts set here).
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from app.core import keys
from app.extensions import csrf, db
from app.models import Role
from tests.conftest import DEFAULT_PASSWORD
from tests.support.csrf import csrf_from
from tests.support.tcp_proxy import TcpProxy

SMALL_TIMEOUTS = {"DATABASE_CONNECT_TIMEOUT": 2, "DATABASE_STATEMENT_TIMEOUT": 1.0,
                  "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT": 2.0, "DATABASE_POOL_TIMEOUT": 1.0,
                  "HEALTH_TIMEOUT": 1.0}
NOT_HUNG = 20
MESSAGE = "Tessera cannot reach its database right now. Please try again in a few seconds."
CODE = "temporarily_unavailable"

# Each dialect's login, and its 503 envelope.
DIALECT_LOGINS = {
    "modernauth": ("/v1/auth/login", {"error": CODE, "message": MESSAGE}),
    "apiv1": ("/api/v1/auth/login", {"message": MESSAGE, "error": CODE, "status": 503}),
    "apiauth": ("/api/auth/login", {"status": "error", "message": MESSAGE, "code": CODE}),
    "eventchain": ("/eventchain/v1/auth/login",
                   {"success": False, "error": {"code": CODE, "message": MESSAGE,
                                                "details": {}}}),
}


@pytest.fixture
def proxy(database):
    if database.kind != "postgresql":
        # CI's SQLite pass skips it; its PostgreSQL pass runs it (a named database that is
        # down fails the run in conftest).
        pytest.skip("needs PostgreSQL (TESSERA_TEST_DATABASE_URL)")
    url = make_url(database.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy
    proxy.close()


@pytest.fixture
def served(proxy, app_factory, database, tmp_path):
    """The app, its database reached through the proxy, served on a free loopback port."""
    proxied = make_url(database.fresh_url(tmp_path)).set(host="127.0.0.1", port=proxy.port)
    app = app_factory(DATABASE_URL=proxied.render_as_string(hide_password=False),
                      **SMALL_TIMEOUTS)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: errors become answers
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["ISSUER"] = base_url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=base_url, timeout=NOT_HUNG) as http:
            yield SimpleNamespace(app=app, http=http, proxy=proxy, base_url=base_url)
    finally:
        proxy.restore()
        server.shutdown()
        thread.join(timeout=5)


def _browser(served, email: str) -> httpx.Client:
    """A signed-in browser (its own cookie jar)."""
    browser = httpx.Client(base_url=served.base_url, timeout=NOT_HUNG)
    token = csrf_from(browser.get("/login").text)
    response = browser.post("/login", data={"csrf_token": token, "email": email,
                                            "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.text[:300]
    return browser


def _token_request(http: httpx.Client) -> httpx.Response:
    return http.post("/oauth2/token", data={"grant_type": "client_credentials"},
                     auth=("no-such-client", "secret"))


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert response.headers["Retry-After"] == "5"


def _assert_every_surface_answers_503(served, browser, email, dialects=DIALECT_LOGINS) -> None:
    for path, envelope in (DIALECT_LOGINS[name] for name in dialects):
        response = served.http.post(path, json={"email": email,
                                                "password": DEFAULT_PASSWORD})
        _assert_unavailable(response)
        assert response.json() == envelope
        assert response.headers["Cache-Control"] == "no-store"

    response = _token_request(served.http)
    _assert_unavailable(response)
    assert response.json() == {"error": CODE, "error_description": MESSAGE}

    page = browser.get("/account")
    _assert_unavailable(page)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Temporarily unavailable" in page.text and MESSAGE in page.text
    assert "set-cookie" not in page.headers  # the sign-in cookie is left alone


def _assert_every_surface_works(served, browser, email) -> None:
    for path, _envelope in DIALECT_LOGINS.values():
        response = served.http.post(path, json={"email": email,
                                                "password": DEFAULT_PASSWORD})
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    assert _token_request(served.http).status_code == 401  # an unknown client, answered
    assert browser.get("/account").status_code == 200
    assert served.http.get("/health").json()["checks"]["database"] == "ok"


def test_an_unreachable_database_is_a_503_in_every_surfaces_shape_until_it_returns(
        served, make_user):
    email = make_user()["email"]
    browser = _browser(served, email)

    served.proxy.cut()
    _assert_every_surface_answers_503(served, browser, email)
    health = served.http.get("/health")
    assert health.status_code == 503
    assert health.json()["checks"]["database"] == "unreachable"

    served.proxy.restore()
    _assert_every_surface_works(served, browser, email)


def test_a_frozen_database_is_a_503_within_the_timeouts_and_discovery_and_jwks_still_answer(
        served, make_user):
    email = make_user()["email"]
    browser = _browser(served, email)
    published = browser.get("/.well-known/jwks.json").json()

    served.proxy.freeze()
    with served.app.app_context():
        keys.invalidate_cache()  # as when the key cache's period has run out
    # Each request here waits out a timeout: one dialect stands for all (their envelopes
    # are checked on a cut database above).
    _assert_every_surface_answers_503(served, browser, email, dialects=["apiv1"])
    health = served.http.get("/health")
    assert health.status_code == 503
    assert health.json()["checks"]["database"] == "timeout"
    # A signed-in browser too: these documents do not depend on who asks.
    assert browser.get("/.well-known/openid-configuration").status_code == 200
    jwks = browser.get("/.well-known/jwks.json")
    assert jwks.status_code == 200 and jwks.json() == published

    served.proxy.restore()
    _assert_every_surface_works(served, browser, email)


def test_postgresql_sessions_carry_the_configured_timeouts(proxy, app_factory):
    app = app_factory(**SMALL_TIMEOUTS)
    with app.app_context():
        shown = {name: db.session.execute(text(f"SHOW {name}")).scalar()
                 for name in ("statement_timeout", "idle_in_transaction_session_timeout",
                              "search_path")}
    assert shown["statement_timeout"] == "1s"
    assert shown["idle_in_transaction_session_timeout"] == "2s"
    assert shown["search_path"].startswith("tessera_test_")  # the URL's own options kept


def test_a_statement_past_the_statement_timeout_is_a_503(served):
    @served.app.get("/v1/slow")
    def slow():
        db.session.execute(text("SELECT pg_sleep(3)"))  # the timeout here is 1 s
        return {"slept": True}

    response = served.http.get("/v1/slow")
    _assert_unavailable(response)
    assert response.json() == DIALECT_LOGINS["modernauth"][1]
    assert served.http.get("/health").json()["checks"]["database"] == "ok"


def test_a_database_lost_before_the_commit_is_a_503_and_nothing_is_written(served, query):
    @served.app.post("/v1/write-then-lose")
    @csrf.exempt
    def write_then_lose():
        db.session.add(Role(name="written-before-the-outage", description="x"))
        db.session.flush()
        served.proxy.cut()  # the database goes away between the view and the commit
        return {"written": True}

    response = served.http.post("/v1/write-then-lose")
    _assert_unavailable(response)
    assert response.json() == DIALECT_LOGINS["modernauth"][1]
    served.proxy.restore()
    assert query(lambda session: session.query(Role).filter_by(
        name="written-before-the-outage").count()) == 0
