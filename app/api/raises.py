"""The core errors each kind of core call may raise, named once for every dialect's routes.

A route declares what its view may raise (`raises=` on Dialect.route) by naming these
groups; the OpenAPI documents list the statuses and codes they map to in each dialect, so a
new refusal in core is documented by adding it to its group here. Kinds are listed one by
one, subclasses too: a dialect's table may give a subclass its own code or status (an
expired link is AUTH_003 in eventchain, an invalid one AUTH_004). What a route's `auth`,
`request`, `query` and `limit` imply is added by the route itself (Route.may_raise).
"""

from __future__ import annotations

from app.core.errors import (
    AccountInactive,
    AccountLocked,
    AccountNotVerified,
    AlreadyVerified,
    CodeAttemptsExceeded,
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    InvalidGrant,
    InvalidInput,
    InvalidToken,
    MfaAlreadyEnabled,
    MfaAttemptsExceeded,
    MfaChallengeExpired,
    MfaChallengeInvalid,
    MfaCodeExpired,
    MfaInvalidCode,
    MfaNotEnabled,
    MfaRequired,
    NotFound,
    OneTimeTokenExpired,
    OneTimeTokenInvalid,
    PasskeyChallengeInvalid,
    PasskeyInvalid,
    RateLimited,
    ReauthenticationRequired,
    RefreshTokenReused,
    RegistrationNotAllowed,
    TokenExpired,
    Unauthenticated,
    UsernameTaken,
    WeakPassword,
    WrongCode,
    WrongPassword,
)

# A bearer token that is missing, invalid or expired (what an `auth` route implies; a
# view that reads the token itself declares it).
BEARER = (Unauthenticated, InvalidToken, TokenExpired)
# A new account: the address or username taken, a weak password, a role not one's own.
SIGN_UP = (InvalidInput, WeakPassword, EmailTaken, UsernameTaken, Forbidden)
# A password login (and what follows the first factor: a second one required, a trusted
# device's token that is no longer good).
PASSWORD_LOGIN = (InvalidInput, InvalidCredentials, AccountLocked, AccountInactive,
                  AccountNotVerified, MfaRequired, RateLimited)
# The second step of a login: the pending login gone or spent, a wrong code, a factor the
# user does not have, a code mailed too often.
MFA_LOGIN = (InvalidInput, MfaChallengeInvalid, MfaChallengeExpired, MfaAttemptsExceeded,
             MfaInvalidCode, MfaCodeExpired, MfaNotEnabled, PasskeyInvalid,
             PasskeyChallengeInvalid, AccountLocked, AccountInactive, RateLimited)
# Rotating a refresh token, or trading an expired access token.
REFRESH = (InvalidInput, InvalidGrant, RefreshTokenReused, InvalidToken, TokenExpired)
# A one-time link or code from mail or text (verification, reset, sign-in link).
ONE_TIME = (InvalidInput, OneTimeTokenInvalid, OneTimeTokenExpired, WrongCode,
            CodeAttemptsExceeded, AlreadyVerified, RateLimited)
# A password reset: a one-time token and a new password.
RESET = (*ONE_TIME, WeakPassword)
# A signed-out request to mail something to an address.
MAIL_REQUEST = (InvalidInput, RateLimited)
# Mail or text to the caller's own account.
SEND_TO_SELF = (InvalidInput, AlreadyVerified, RateLimited)
# A sign-in link: one-time token, and an account that may not be created by it.
LINK_SIGN_IN = (*ONE_TIME, RegistrationNotAllowed, AccountLocked, AccountInactive,
                MfaRequired)
# Editing the profile: field rules and a username someone else holds.
PROFILE = (InvalidInput, UsernameTaken)
# Re-entering the current password for a sensitive change.
PASSWORD_CHECK = (InvalidInput, WrongPassword, WeakPassword, RateLimited)
# A change to the second factors: recent authentication (a password or code re-entered),
# and the factor's own state.
FACTOR_CHANGE = (InvalidInput, ReauthenticationRequired, WrongPassword, MfaInvalidCode,
                 MfaCodeExpired, MfaAlreadyEnabled, MfaNotEnabled, PasskeyInvalid,
                 PasskeyChallengeInvalid, RateLimited)
# A step-up: a code or password that re-authenticates the token's session.
STEP_UP = (InvalidInput, WrongPassword, MfaInvalidCode, MfaCodeExpired, MfaNotEnabled,
           RateLimited)
# An administrator's action on another account, or a named item of one's own.
ADMIN = (InvalidInput, Forbidden, NotFound)
OWN_ITEM = (InvalidInput, NotFound, Forbidden)

__all__ = ["ADMIN", "BEARER", "FACTOR_CHANGE", "LINK_SIGN_IN", "MAIL_REQUEST", "MFA_LOGIN",
           "ONE_TIME", "OWN_ITEM", "PASSWORD_CHECK", "PASSWORD_LOGIN", "PROFILE", "REFRESH",
           "RESET", "SEND_TO_SELF", "SIGN_UP", "STEP_UP"]
