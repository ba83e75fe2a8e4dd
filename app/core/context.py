"""Who is asking: the little request context core needs, passed in by the views."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClientInfo:
    ip_address: str | None = None
    user_agent: str | None = None

    def __post_init__(self) -> None:
        # Bounded to the column sizes; a user agent is attacker-controlled.
        if self.user_agent and len(self.user_agent) > 512:
            object.__setattr__(self, "user_agent", self.user_agent[:512])
