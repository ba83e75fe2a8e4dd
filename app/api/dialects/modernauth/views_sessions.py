"""modernauth's session endpoints: the caller's active sessions, its login history, and
ending them all."""

from __future__ import annotations

from app.api.common import client_info
from app.api.dialects.modernauth.document import dialect
from app.api.dialects.modernauth.shapes import MessageOut
from app.core import api_logins, audit, sessions


@dialect.route("/auth/revoke-all-sessions", "POST", summary="Revoke all user sessions",
               response=MessageOut, auth=True)
def revoke_all_sessions(caller: api_logins.Principal):
    count = api_logins.revoke_all_sessions(caller.user, client=client_info())
    return {"message": "All sessions revoked.", "revoked_sessions": count}


def _session_out(row, current_id) -> dict:
    return {"id": str(row.id), "ip": row.ip_address, "user_agent": row.user_agent,
            "created_at": row.created_at.isoformat(),
            "last_seen_at": row.last_seen_at.isoformat(), "amr": list(row.amr or []),
            "current": row.id == current_id}


@dialect.route("/sessions", "GET", summary="List active sessions", auth=True)
def session_list(caller: api_logins.Principal):
    current_id = caller.session.id if caller.session else None
    return {"sessions": [_session_out(row, current_id)
                         for row in sessions.active_sessions(caller.user)]}


@dialect.route("/sessions/history", "GET", summary="Login history", auth=True)
def session_history(caller: api_logins.Principal):
    events = audit.events_for_user(caller.user.id, kinds=audit.LOGIN_EVENTS, limit=100)
    return {"history": [{"id": str(e.id), "event_type": e.event, "ip": e.ip_address,
                         "user_agent": e.user_agent, "created_at": e.created_at.isoformat()}
                        for e in events]}
