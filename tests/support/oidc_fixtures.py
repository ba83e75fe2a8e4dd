"""Helpers for OIDC endpoint tests: clients, sessions, consents and tokens without the
authorize flow. Plain functions (not fixtures), each running in its own app context and
committing, so HTTP requests made afterwards see the rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from app.core import clients, consents, keys, sessions, tokens
from app.core.context import ClientInfo
from app.extensions import db
from app.models import AuthSession, User

RP_REDIRECT = "https://rp.example.com/cb"
RP_LOGGED_OUT = "https://rp.example.com/logged-out"
DEFAULT_SCOPE = "openid profile email"


@dataclass
class Grant:
    """A person signed in to a client: what tokens are minted from."""

    user_id: uuid.UUID
    email: str
    session_id: uuid.UUID | None
    client_id: str
    client_secret: str | None
    issuer: str


def make_client(app, name: str = "Example RP", **options) -> tuple[str, str | None]:
    """Register a client; returns (client_id, secret). Public with public=True."""
    options.setdefault("post_logout_redirect_uris", [RP_LOGGED_OUT])
    with app.app_context():
        client, secret = clients.create_client(name, options.pop("redirect_uris", [RP_REDIRECT]),
                                               **options)
        db.session.commit()
        return client.client_id, secret


def make_grant(app, user: dict, *, scope: str = DEFAULT_SCOPE, consent: bool = True,
               client_id: str | None = None, session_id: uuid.UUID | None = None,
               with_session: bool = True, **client_options) -> Grant:
    """A session for the user (unless with_session=False or session_id is given), a client
    (unless client_id is given) and, with consent=True, the user's consent to the scope."""
    secret = None
    if client_id is None:
        client_id, secret = make_client(app, **client_options)
    with app.app_context():
        row = db.session.get(User, uuid.UUID(user["id"]))
        if session_id is None and with_session:
            session, _ = sessions.start_session(row, client=ClientInfo(), amr=["pwd"])
            session_id = session.id
        if consent:
            consents.grant(row.id, client_id, set(scope.split()))
        keys.ensure_keys()
        db.session.commit()
        return Grant(user_id=row.id, email=row.email, session_id=session_id,
                     client_id=client_id, client_secret=secret, issuer=app.config["ISSUER"])


def access_token(app, grant: Grant, *, scope: str = DEFAULT_SCOPE, **options) -> tuple[str, dict]:
    """An access token as the token endpoint mints it: (jwt, claims)."""
    arguments = {"subject": str(grant.user_id), "client_id": grant.client_id, "scope": scope,
                 "audience": grant.issuer, "session_id": grant.session_id} | options
    with app.app_context():
        token, claims = tokens.issue_access_token(**arguments)
        db.session.commit()
        return token, claims


def refresh_token(app, grant: Grant, *, scope: str = DEFAULT_SCOPE) -> str:
    with app.app_context():
        token, _ = tokens.issue_refresh_token(user_id=grant.user_id, client_id=grant.client_id,
                                              scope=scope, session_id=grant.session_id)
        db.session.commit()
        return token


def id_token(app, grant: Grant, *, session_id: object = "grant", **options) -> str:
    """An ID token for the grant's client and user; session_id defaults to the grant's."""
    from app.oidc.id_token import issue_id_token

    with app.app_context():
        client = clients.get_client(grant.client_id)
        user = db.session.get(User, grant.user_id)
        arguments = {"client": client, "user": user, "scope": DEFAULT_SCOPE,
                     "session_id": grant.session_id if session_id == "grant" else session_id,
                     "auth_time": None, "amr": ["pwd"], "acr": None} | options
        token = issue_id_token(**arguments)
        db.session.commit()
        return token


def latest_session_id(app, user_id: uuid.UUID | str) -> uuid.UUID:
    """The newest session of a user (the one a test client's login just made)."""
    with app.app_context():
        return db.session.scalar(
            select(AuthSession.id).where(AuthSession.user_id == uuid.UUID(str(user_id)))
            .order_by(AuthSession.created_at.desc()).limit(1))


def session_ended(app, session_id: uuid.UUID) -> bool:
    with app.app_context():
        return db.session.get(AuthSession, session_id).ended_at is not None
