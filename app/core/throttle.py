"""Counting attempts (failed logins and the like) so every instance sees the same count.

Built on the `limits` package, the same counters flask-limiter uses: in process memory by
default, in Redis when configured. Each attempt is counted *before* it is checked, with an
atomic increment, so a burst of concurrent attempts cannot slip past the limit together.

When Redis is down, counting fails closed: `consume` lets the storage error rise, so the
edge refuses the attempt (503) rather than let guesses through uncounted. Forgetting a
count (`reset`, after a good password) fails open: the attempt itself succeeded.
"""

from __future__ import annotations

import logging
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)


class Throttle:
    def __init__(self, storage_uri: str, *, prefix: str, enabled: bool = True,
                 options: dict | None = None) -> None:
        self.storage = storage_from_string(storage_uri, **(options or {}))
        self.strategy = FixedWindowRateLimiter(self.storage)
        self.prefix = prefix
        self.enabled = enabled

    def consume(self, limit: str, *key: str) -> int | None:
        """Count one attempt. None if allowed, otherwise seconds until the window resets."""
        if not self.enabled:
            return None
        item = parse(limit)
        if self.strategy.hit(item, self.prefix, *key):
            return None
        reset_at = self.strategy.get_window_stats(item, self.prefix, *key).reset_time
        return max(1, int(reset_at - time.time()))

    def reset(self, limit: str, *key: str) -> None:
        if not self.enabled:
            return
        try:
            self.strategy.clear(parse(limit), self.prefix, *key)
        except Exception as error:  # noqa: BLE001 - whatever the storage raises when down
            # The count stays until its window ends; refusing a good sign-in for that
            # would turn a Redis outage into an outage of every account.
            log.warning("could not reset a throttle count (%s): %s", type(error).__name__, error)
