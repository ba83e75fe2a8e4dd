"""When Redis is down: refuse what must be counted, serve what may go uncounted, log once.

Redis (when configured) holds the rate limits (flask-limiter), core's throttle (failed
logins, mail and code sends, password re-checks) and replay protection. Without it those
cannot be counted, and the routes behind them choose one of two answers:

- fail closed (the default): sign-ins, MFA steps, mail and text sends, password checks,
  registration and every one-time code are refused with 503 and `Retry-After`, in the
  envelope of the surface that owns the path, since counting is their protection against
  guessing and mail bombing;
- fail open: routes whose limit only guards capacity (a refresh, which needs a refresh
  token already) are served without their limit (`limit_failing_open`).

The outage is logged once per process when first seen, and its end once when a probe
(a PING at most every `PROBE_INTERVAL` seconds, made by a request while Redis is down)
answers again; requests in between log nothing.

flask-limiter's own outage options do not fit: `RATELIMIT_SWALLOW_ERRORS` fails every
limit open and logs a traceback per request, and its in-memory fallback counts per process
for every route alike (a sign-in limit multiplied by the number of workers) and checks
for recovery at intervals growing to half a minute. Its documented `exempt_when` is what
the fail-open limits use.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

import redis
from flask import Flask, current_app, g

from app.http import transaction
from app.http.errors import unavailable

EXTENSION = "tessera.redis_outage"
PROBE_INTERVAL = 1.0  # seconds between PINGs while Redis is down
RETRY_AFTER = 5  # seconds: a restart of Redis usually takes about this long
MESSAGE = "This service is briefly unavailable. Try again in a few seconds."


class RedisOutage:
    """This process's view of Redis: up, or down since when (and how many were refused)."""

    def __init__(self, client: redis.Redis, logger) -> None:
        self.client = client
        self.logger = logger
        self.down_since: float | None = None
        self.refused = 0
        self._next_probe = 0.0
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        """Whether Redis is known to be down; probes it again when a probe is due."""
        if self.down_since is not None and time.monotonic() >= self._next_probe:
            self._probe()
        return self.down_since is not None

    def failed(self, error: Exception) -> None:
        """A Redis call failed: the first failure of an outage is logged, later ones counted."""
        with self._lock:
            self.refused += 1
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
            self._next_probe = self.down_since + PROBE_INTERVAL
        self.logger.error(
            "Redis unreachable (%s: %s): sign-ins, MFA and mail sends answer 503, refreshes "
            "are served without their rate limit, until it answers again",
            type(error).__name__, error)

    def _probe(self) -> None:
        # One request probes; the others go on with the state as it is.
        if not self._lock.acquire(blocking=False):
            return
        try:
            now = time.monotonic()
            if self.down_since is None or now < self._next_probe:
                return
            self._next_probe = now + PROBE_INTERVAL
            try:
                self.client.ping()
            except redis.RedisError:
                return
            self.logger.warning("Redis reachable again after %.1f s; %d requests found it "
                                "down meanwhile (the rest of the fail-open ones were served "
                                "without their limit)", now - self.down_since, self.refused)
            self.down_since, self.refused = None, 0
        finally:
            self._lock.release()


def register(app: Flask) -> None:
    client = app.extensions.get("tessera.redis")
    if client is None:
        return  # in-process counters: nothing to lose
    app.extensions[EXTENSION] = RedisOutage(client, app.logger)
    app.before_request(_probe_while_down)
    app.register_error_handler(redis.RedisError, _redis_error)


def _outage() -> RedisOutage | None:
    return current_app.extensions.get(EXTENSION)


def _probe_while_down() -> None:
    outage = _outage()
    if outage is not None and outage.down_since is not None:
        outage.down  # noqa: B018 - the property probes when one is due


def _redis_error(error: redis.RedisError):
    """Fail closed: whatever needed Redis is refused, in the owning surface's envelope."""
    transaction.abandon()
    outage = _outage()
    if outage is not None:
        outage.failed(error)
    return unavailable(MESSAGE, retry_after=RETRY_AFTER)


def redis_down() -> bool:
    """flask-limiter's `exempt_when` for limits that fail open."""
    outage = _outage()
    return outage is not None and outage.down


def limit_failing_open(limiter, limit: str, **options) -> Callable[[Callable], Callable]:
    """`limiter.limit(limit, **options)`, except that while Redis is down the view is served
    without the limit. The request that finds Redis down is served too: the limit's check
    failed before the view started, so the view runs once, unlimited."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def started(*args, **kwargs):
            g.tessera_limit_checked = True
            return view(*args, **kwargs)

        limited = limiter.limit(limit, exempt_when=redis_down, **options)(started)

        @functools.wraps(view)
        def guarded(*args, **kwargs):
            try:
                return limited(*args, **kwargs)
            except redis.RedisError as error:
                outage = _outage()
                if g.pop("tessera_limit_checked", False) or outage is None:
                    raise  # the view's own call to Redis: that one fails closed
                outage.failed(error)
                return view(*args, **kwargs)

        return guarded

    return decorate
