"""Which user claims a scope releases (OpenID Connect Core §5.4), for userinfo and ID tokens."""

from __future__ import annotations

from app.models import User

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "given_name", "family_name", "preferred_username", "updated_at"),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "address": ("address",),
}
SUPPORTED_CLAIMS = ("sub", *(claim for claims in SCOPE_CLAIMS.values() for claim in claims))
# The access-token claim that carries the names a `claims` request asked userinfo for.
USERINFO_CLAIMS = "userinfo_claims"


def _value(user: User, claim: str):
    match claim:
        case "name":
            full = f"{user.first_name} {user.last_name}".strip()
            return full or None
        case "given_name":
            return user.first_name or None
        case "family_name":
            return user.last_name or None
        case "preferred_username":
            return user.username
        case "updated_at":
            return int(user.updated_at.timestamp()) if user.updated_at else None
        case "email":
            return user.email
        case "email_verified":
            return bool(user.email_verified)
        case "phone_number":
            return user.phone
        case "phone_number_verified":
            # Tessera does not verify phone numbers yet, so it never claims to have.
            return False if user.phone else None
        case _:
            return None  # address: no postal address is stored


def user_claims(user: User, scopes: set[str] | list[str] | str,
                requested: dict | None = None) -> dict:
    """sub plus the claims the scopes release, plus individually requested ones (the
    `claims` request parameter); claims with no value are left out."""
    if isinstance(scopes, str):
        scopes = scopes.split()
    names = [claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, ())]
    names += [name for name in (requested or {}) if name in SUPPORTED_CLAIMS]
    result = {"sub": str(user.id)}
    for name in names:
        value = _value(user, name)
        if value is not None:
            result[name] = value
    return result
