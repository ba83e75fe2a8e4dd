"""Counting attempts (failed logins and the like) so every instance sees the same count.

Built on the `limits` package, the same counters flask-limiter uses: in process memory by
default, in Redis when configured. Each attempt is counted *before* it is checked, with an
atomic increment, so a burst of concurrent attempts cannot slip past the limit together.
"""

from __future__ import annotations

import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter


class Throttle:
    def __init__(self, storage_uri: str, *, prefix: str, enabled: bool = True) -> None:
        self.storage = storage_from_string(storage_uri)
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
        if self.enabled:
            self.strategy.clear(parse(limit), self.prefix, *key)
