"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from app.models.audit import AuditEvent
from app.models.authorization import (
    AuthorizationCode,
    Consent,
    PendingAuthorization,
    RevokedAccessToken,
)
from app.models.client import OAuthClient
from app.models.session import AuthSession
from app.models.signing_key import SigningKey
from app.models.token import RefreshToken
from app.models.user import User

__all__ = ["AuditEvent", "AuthSession", "AuthorizationCode", "Consent", "OAuthClient",
           "PendingAuthorization", "RefreshToken", "RevokedAccessToken", "SigningKey", "User"]
