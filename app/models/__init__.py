"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from app.models.audit import AuditEvent
from app.models.session import AuthSession
from app.models.user import User

__all__ = ["AuditEvent", "AuthSession", "User"]
