"""Load shedding: a request that waited too long for a thread is refused at once, not late.

Under overload gunicorn's gthread workers accept every connection and queue it for a
thread; without a bound the queue grows until answers arrive after the client gave up (or
after the worker timeout). So the first thing a request does, before any session lookup or
database work, is look at how long it waited and how deep the queue was when it arrived:

- waited longer than `TESSERA_QUEUE_BUDGET_MS`, or
- arrived behind more than `TESSERA_QUEUE_MAX_DEPTH` requests waiting in its worker,

and it is answered 503 with `Retry-After`, code `overloaded`, in the owning surface's
envelope. That answer costs a fraction of a millisecond, so the queue drains fast and the
requests behind it are answered in time.

Where the wait starts: gunicorn records no arrival time a WSGI app can see, so
`stamp_arrivals` (called from `config/gunicorn.conf.py`'s `post_worker_init`) wraps the
worker's queue: it stamps each request when it is queued for a thread and hands the stamp
and the queue depth to the app in the WSGI environ, where a client cannot forge them. A
trusted proxy's `X-Request-Start` (honoured only with `TESSERA_TRUST_PROXY_HOPS` > 0, so a
client cannot claim a fresh start) also counts the time spent in front of the server;
whichever wait is longer decides.
"""

from __future__ import annotations

import math
import threading
import time

from flask import Flask, request

from app.http import session_cookie
from app.http.errors import unavailable

# time.monotonic() when gunicorn queued the request for a thread, and how many requests
# were waiting ahead of it in its worker: set by `stamp_arrivals`.
QUEUED_AT = "tessera.queued_at"
QUEUE_DEPTH = "tessera.queue_depth"
MESSAGE = "The server is busy. Try again in a moment."
CODE = "overloaded"


def register(app: Flask) -> None:
    budget = app.config["QUEUE_BUDGET_MS"] / 1000
    max_depth = app.config["QUEUE_MAX_DEPTH"]
    if not budget and not max_depth:
        return
    trust_header = app.config["TRUST_PROXY_HOPS"] > 0
    retry_after = max(1, math.ceil(budget))

    def shed_if_late():
        environ = request.environ
        depth = environ.get(QUEUE_DEPTH)
        waited = _waited(environ, trust_header)
        if ((budget and waited is not None and waited > budget)
                or (max_depth and depth is not None and depth > max_depth)):
            # The themed page asks who is signed in; a shed answer must not look it up in
            # the database, so it is shown signed out.
            session_cookie.leave_unresolved()
            return unavailable(MESSAGE, retry_after=retry_after, code=CODE)
        return None

    # First of all before-request hooks: a shed request must cost nothing (no CSRF check,
    # no rate-limit counting, no session lookup).
    app.before_request_funcs.setdefault(None, []).insert(0, shed_if_late)


def _waited(environ: dict, trust_header: bool) -> float | None:
    """Seconds since the request reached the server, or None when nothing says."""
    waited = None
    queued_at = environ.get(QUEUED_AT)
    if queued_at is not None:
        waited = time.monotonic() - queued_at
    if trust_header:
        started = request_start(environ.get("HTTP_X_REQUEST_START"))
        if started is not None:
            waited = max(waited or 0.0, time.time() - started)
    return waited


def request_start(header: str | None) -> float | None:
    """`X-Request-Start` as seconds since the epoch. Proxies write it as `t=<seconds>`
    (nginx's `t=${msec}`), or as milli-, micro- or nanoseconds since the epoch: the unit
    is read from the magnitude."""
    if not header:
        return None
    try:
        value = float(header.strip().removeprefix("t="))
    except ValueError:
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    # 1e11 seconds is the year 5138; 1e11 ms is 1973: no real start time is ambiguous.
    if value > 1e17:
        return value / 1e9
    if value > 1e14:
        return value / 1e6
    if value > 1e11:
        return value / 1e3
    return value


def stamp_arrivals(worker) -> None:
    """Make a gunicorn gthread worker tell the app when each request was queued and how
    many were waiting ahead of it (see the module docstring). Other worker classes, which
    queue nothing of their own, are left alone."""
    if not all(hasattr(worker, name) for name in ("enqueue_req", "handle", "wsgi")):
        return
    enqueue, handle, wsgi = worker.enqueue_req, worker.handle, worker.wsgi
    lock = threading.Lock()
    waiting = 0
    current = threading.local()

    def enqueue_req(conn):
        # Runs on the worker's main loop: for a new connection, and for every later request
        # on a keep-alive one.
        nonlocal waiting
        with lock:
            conn.tessera_queue_depth = waiting
            waiting += 1
        conn.tessera_queued_at = time.monotonic()
        return enqueue(conn)

    def handle_conn(conn):
        # Runs on a pool thread: the request has its thread, it waits no more.
        nonlocal waiting
        with lock:
            waiting -= 1
        current.queued_at = getattr(conn, "tessera_queued_at", None)
        current.depth = getattr(conn, "tessera_queue_depth", None)
        return handle(conn)

    def app(environ, start_response):
        # Only the first request of a hand-over carries its stamp: an HTTP/2 connection
        # serves many streams in one, and later ones did not wait in the queue that long.
        environ[QUEUED_AT] = current.__dict__.pop("queued_at", None)
        environ[QUEUE_DEPTH] = current.__dict__.pop("depth", None)
        return wsgi(environ, start_response)

    worker.enqueue_req, worker.handle, worker.wsgi = enqueue_req, handle_conn, app
