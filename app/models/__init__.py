"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from app.models.app_data import UserAppData
from app.models.audit import AuditEvent
from app.models.authorization import (
    AuthorizationCode,
    Consent,
    PendingAuthorization,
    RevokedAccessToken,
)
from app.models.client import OAuthClient
from app.models.mail import MailRequest, OutboundMail
from app.models.mfa import (
    MfaChallenge,
    MfaSettings,
    RecoveryCode,
    TotpFactor,
    TrustedDevice,
    WebAuthnChallenge,
    WebAuthnCredential,
)
from app.models.one_time_token import OneTimeToken
from app.models.rbac import Permission, Role, UserRole, role_permissions
from app.models.session import AuthSession
from app.models.signing_key import SigningKey
from app.models.sms import OutboundSms
from app.models.token import RefreshToken
from app.models.user import User

__all__ = ["AuditEvent", "AuthSession", "AuthorizationCode", "Consent", "OAuthClient",
           "MailRequest", "OneTimeToken", "OutboundMail", "OutboundSms", "PendingAuthorization",
           "Permission", "RefreshToken",
           "RevokedAccessToken", "Role", "SigningKey", "User", "UserAppData", "UserRole",
           "role_permissions", "MfaChallenge", "MfaSettings", "RecoveryCode", "TotpFactor",
           "TrustedDevice", "WebAuthnChallenge", "WebAuthnCredential"]
