"""Remembering one-time values (assertion jti, TOTP codes) until they expire.

In Redis when configured, so every instance refuses a value another already accepted;
otherwise in this process, which is all the embedded single-process default needs.
"""

from __future__ import annotations

import threading
import time

from flask import current_app


class _MemoryStore:
    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_use(self, key: str, ttl: int) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
            expires = self._seen.get(key)
            if expires is not None and expires > now:
                return False
            self._seen[key] = now + ttl
            return True


def first_use(namespace: str, value: str, ttl: int) -> bool:
    """True the first time (namespace, value) is seen within ttl seconds, False after."""
    key = f"{current_app.config['KEY_PREFIX']}:once:{namespace}:{value}"
    redis = current_app.extensions.get("tessera.redis")
    if redis is not None:
        return bool(redis.set(key, b"1", nx=True, ex=max(1, int(ttl))))
    store = current_app.extensions.setdefault("tessera.once", _MemoryStore())
    return store.first_use(key, ttl)
