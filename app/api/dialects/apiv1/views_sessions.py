"""apiv1's sessions and security: the active sessions, ending them all, recent events."""

from __future__ import annotations

from app.api.common import client_info
from app.api.dialects.apiv1.document import dialect
from app.api.dialects.apiv1.shapes import (
    ActivityEnvelope,
    RevokedEnvelope,
    SessionsEnvelope,
    ok,
)
from app.core import api_logins, audit, sessions


def session_out(row, current_id) -> dict:
    return {"id": str(row.id), "ipAddress": row.ip_address, "userAgent": row.user_agent,
            "createdAt": row.created_at.isoformat(), "lastSeenAt": row.last_seen_at.isoformat(),
            "current": row.id == current_id}


def activity_out(event) -> dict:
    return {"type": event.event, "ipAddress": event.ip_address, "userAgent": event.user_agent,
            "createdAt": event.created_at.isoformat(), "details": dict(event.details or {})}


@dialect.route("/active-sessions", "GET", summary="List active sessions",
               response=SessionsEnvelope, auth=True)
def active_sessions(caller: api_logins.Principal):
    current_id = caller.session.id if caller.session else None
    return ok("Active sessions retrieved.", [session_out(row, current_id)
                                             for row in sessions.active_sessions(caller.user)])


@dialect.route("/revoke-all-sessions", "POST", summary="End every session of the account",
               response=RevokedEnvelope, auth=True)
def revoke_all_sessions(caller: api_logins.Principal):
    count = api_logins.revoke_all_sessions(caller.user, client=client_info())
    return ok("All sessions revoked.", {"revokedSessions": count})


@dialect.route("/security-activity", "GET", summary="Recent security events of the account",
               response=ActivityEnvelope, auth=True)
def security_activity(caller: api_logins.Principal):
    return ok("Security activity retrieved.",
              [activity_out(event) for event in audit.events_for_user(caller.user.id,
                                                                       limit=50)])
