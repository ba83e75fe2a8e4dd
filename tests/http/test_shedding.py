"""Load shedding: a request that waited past the budget, or arrived behind too deep a
queue, is answered 503 with Retry-After in its surface's envelope, and does nothing else.

The arrival stamps are what gunicorn's worker hands the app (app/http/shedding.py); here
they are set in the WSGI environ directly, with ages far from any boundary, so nothing
depends on how fast the test runs. How much shedding helps is measured by
`bench/run.py --scenario overload`, not here.
"""

from __future__ import annotations

import time

from app.http.shedding import QUEUE_DEPTH, QUEUED_AT, request_start, stamp_arrivals
from app.models import User

LONG_AGO = 60.0  # seconds: far past the default budget of 5 s


def _queued(seconds_ago: float, depth: int = 0) -> dict:
    return {QUEUED_AT: time.monotonic() - seconds_ago, QUEUE_DEPTH: depth}


def test_a_request_that_waited_past_the_budget_is_shed_in_its_surface_envelope(client,
                                                                               query):
    late = _queued(LONG_AGO)
    signup = client.post("/v1/auth/register", json={"email": "late@example.com",
                                                    "password": "a long passphrase"},
                         environ_base=late)
    assert signup.status_code == 503
    assert signup.headers["Retry-After"] == "5"
    assert signup.get_json() == {"error": "overloaded", "message": signup.get_json()["message"]}
    assert query(lambda s: s.query(User).filter_by(email="late@example.com").count()) == 0

    eventchain = client.post("/eventchain/v1/auth/login", json={}, environ_base=late)
    assert eventchain.status_code == 503 and eventchain.get_json()["success"] is False

    token = client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                        environ_base=late)
    assert token.status_code == 503 and "Retry-After" in token.headers
    assert token.get_json()["error"] == "overloaded"

    page = client.get("/login", environ_base=late)
    assert page.status_code == 503 and "Retry-After" in page.headers
    assert page.mimetype == "text/html" and "tessera.css" in page.get_data(as_text=True)


def test_a_request_within_the_budget_is_served(client):
    assert client.get("/login", environ_base=_queued(0.0)).status_code == 200
    assert client.get("/login").status_code == 200  # no stamp (not under gunicorn)


def test_the_budget_is_configurable_and_zero_switches_it_off(app_factory):
    off = app_factory(QUEUE_BUDGET_MS=0).test_client()
    assert off.get("/login", environ_base=_queued(LONG_AGO)).status_code == 200
    tight = app_factory(QUEUE_BUDGET_MS=1000).test_client()
    response = tight.get("/login", environ_base=_queued(LONG_AGO))
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"


def test_a_request_behind_too_deep_a_queue_is_shed(app_factory):
    client = app_factory(QUEUE_MAX_DEPTH=10).test_client()
    assert client.get("/login", environ_base=_queued(0.0, depth=10)).status_code == 200
    response = client.get("/login", environ_base=_queued(0.0, depth=11))
    assert response.status_code == 503 and "Retry-After" in response.headers


def test_x_request_start_counts_only_behind_a_trusted_proxy(app_factory):
    old = {"X-Request-Start": f"t={time.time() - LONG_AGO:.3f}"}
    untrusted = app_factory().test_client()
    assert untrusted.get("/login", headers=old).status_code == 200
    trusted = app_factory(TRUST_PROXY_HOPS=1).test_client()
    assert trusted.get("/login", headers=old).status_code == 503
    fresh = {"X-Request-Start": str(int(time.time() * 1000))}
    assert trusted.get("/login", headers=fresh).status_code == 200


def test_x_request_start_units_are_read_from_their_magnitude():
    assert request_start("t=1700000000.5") == 1700000000.5
    assert request_start("1700000000500") == 1700000000.5
    assert request_start("1700000000500000") == 1700000000.5
    assert request_start("1700000000500000000") == 1700000000.5
    assert request_start("soon") is None and request_start("t=-1") is None


class _FakeWorker:
    """The three attributes of gunicorn's gthread worker that stamp_arrivals wraps."""

    def __init__(self):
        self.queue: list = []
        self.seen: list[dict] = []

    def enqueue_req(self, conn):
        self.queue.append(conn)

    def handle(self, conn):
        return self.wsgi({}, None)

    def wsgi(self, environ, start_response):
        self.seen.append(environ)
        return []


class _Conn:
    pass


def test_gunicorn_worker_stamps_reach_the_app_with_the_queue_depth():
    worker = _FakeWorker()
    stamp_arrivals(worker)
    before = time.monotonic()
    first, second = _Conn(), _Conn()
    worker.enqueue_req(first)
    worker.enqueue_req(second)
    for conn in list(worker.queue):
        worker.handle(conn)
    assert [environ[QUEUE_DEPTH] for environ in worker.seen] == [0, 1]
    assert all(environ[QUEUED_AT] >= before for environ in worker.seen)
    worker.enqueue_req(first)  # the next request on a keep-alive connection
    worker.handle(first)
    assert worker.seen[-1][QUEUE_DEPTH] == 0
    worker.wsgi({}, None)  # a later request in the same hand-over (an HTTP/2 stream)
    assert worker.seen[-1][QUEUED_AT] is None


def test_a_shed_page_for_a_signed_in_person_is_shown_signed_out(client, make_user):
    from tests.conftest import login

    user = make_user()
    login(client, user["email"])
    assert "Sign out" in client.get("/account").get_data(as_text=True)
    page = client.get("/account", environ_base=_queued(LONG_AGO))
    assert page.status_code == 503
    assert "Sign out" not in page.get_data(as_text=True)  # no session lookup made
