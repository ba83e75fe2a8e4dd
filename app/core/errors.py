"""The one error type core raises, with a stable code every view maps to its own shape.

`durable` marks an error that is the complete result of an operation whose side effects
must be kept (a failed login still counts the attempt and writes its audit event); the
request edge commits those and rolls everything else back.

Names: an exception is named for what went wrong (EmailTaken, TokenExpired, InvalidInput,
and outside this module KeyUnavailable, LogoutRefused), without an `Error` suffix. The
suffix is kept for the few bases a surface catches by kind, each carrying one of several
codes: TesseraError here, and the authorization server's PageError, RedirectError and
BearerError.
"""

from __future__ import annotations


class TesseraError(Exception):
    code = "error"
    status = 400
    message = "The request could not be completed."
    durable = False

    def __init__(self, message: str | None = None, *, field: str | None = None,
                 **details) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.field = field
        self.details = details


class InvalidInput(TesseraError):
    code = "validation"
    status = 400
    message = "The request is invalid."


class WeakPassword(InvalidInput):
    code = "weak_password"


class EmailTaken(TesseraError):
    code = "email_taken"
    status = 409
    message = "An account with this email already exists."


class UsernameTaken(TesseraError):
    code = "username_taken"
    status = 409
    message = "This username is taken."


class InvalidCredentials(TesseraError):
    code = "invalid_credentials"
    status = 401
    message = "Incorrect email or password."
    durable = True


class WrongPassword(TesseraError):
    """The current password, re-entered to confirm a sensitive change, is wrong."""

    code = "wrong_password"
    status = 400
    message = "The current password is incorrect."


class AccountLocked(TesseraError):
    code = "account_locked"
    status = 403
    message = "This account is locked. Contact an administrator."
    durable = True


class AccountNotVerified(TesseraError):
    """Login refused until the email is verified (where a dialect's setting asks for it)."""

    code = "account_not_verified"
    status = 403
    message = "Verify your email address before signing in."
    durable = True


class AccountInactive(TesseraError):
    code = "account_inactive"
    status = 403
    message = "This account is deactivated."
    durable = True


class RateLimited(TesseraError):
    code = "rate_limited"
    status = 429
    message = "Too many attempts. Try again later."
    durable = True

    def __init__(self, message: str | None = None, *, retry_after: int = 60, **details):
        super().__init__(message, **details)
        self.retry_after = retry_after


class NotFound(TesseraError):
    code = "not_found"
    status = 404
    message = "Not found."


class Forbidden(TesseraError):
    code = "forbidden"
    status = 403
    message = "You are not allowed to do this."


class Unauthenticated(TesseraError):
    code = "unauthenticated"
    status = 401
    message = "Authentication is required."


class InvalidToken(TesseraError):
    """A bearer token is malformed, forged, for someone else, or its session has ended."""

    code = "invalid_token"
    status = 401
    message = "The access token is invalid."


class TokenExpired(InvalidToken):
    """A subclass of InvalidToken, so callers that do not care why can catch one type."""

    code = "token_expired"
    status = 401
    message = "The access token has expired."


class InvalidGrant(TesseraError):
    """A refresh token (or other grant) is unknown, expired, revoked or not this client's."""

    code = "invalid_grant"
    status = 400
    message = "The grant is invalid, expired or revoked."


class RefreshTokenReused(InvalidGrant):
    """A rotated refresh token came back: its whole family has been revoked.

    Durable: the revocation must be committed even though the request fails.
    """

    message = "The refresh token was already used; every token of this grant is revoked (reuse)."
    durable = True


class InvalidScope(InvalidInput):
    code = "invalid_scope"
    status = 400
    message = "The requested scope is invalid or exceeds what was granted."


class OneTimeTokenInvalid(TesseraError):
    """A verification, reset or sign-in token or code that is unknown, already used, meant
    for another purpose, or no longer matches the account. Reuse is reported as this.
    Durable: the refusal's audit event (and a code's spent attempt) is kept."""

    code = "token_invalid"
    status = 400
    message = "This link or code is invalid or has already been used."
    durable = True


class OneTimeTokenExpired(OneTimeTokenInvalid):
    """Still a OneTimeTokenInvalid, so callers that do not care why can catch one type.
    (Not TokenExpired: that one is about access tokens and answers 401.)"""

    code = "token_expired"
    message = "This link or code has expired. Ask for a new one."


class WrongCode(OneTimeTokenInvalid):
    """A wrong 6-digit code (durable, like every OneTimeTokenInvalid: the attempt is kept)."""

    message = "That code is not correct."


class CodeAttemptsExceeded(OneTimeTokenInvalid):
    """Every guess a 6-digit code allows is spent: a new code must be sent."""

    message = "Too many wrong codes. Ask for a new one."


class RegistrationNotAllowed(TesseraError):
    """A sign-up link was used without permission to create the account."""

    code = "registration_not_allowed"
    status = 403
    message = "No account uses this address. Allow registration to create one."


class AlreadyVerified(TesseraError):
    code = "already_verified"
    status = 400
    message = "This email address is already verified."


# --- multi-factor authentication ------------------------------------------------------------

class MfaRequired(TesseraError):
    """The password was right; a second factor must follow (details carry the challenge)."""

    code = "mfa_required"
    status = 401
    message = "A second factor is required to finish signing in."
    durable = True


class MfaInvalidCode(TesseraError):
    """A wrong, reused or unusable second-factor code or passkey answer. Durable, so the
    spent attempt and its audit event are kept."""

    code = "mfa_invalid_code"
    status = 401
    message = "That code is not correct."
    durable = True


class MfaCodeExpired(MfaInvalidCode):
    code = "mfa_code_expired"
    message = "That code has expired. Ask for a new one."


class MfaNotEnabled(TesseraError):
    code = "mfa_not_enabled"
    status = 400
    message = "This second factor is not enabled."


class MfaAlreadyEnabled(TesseraError):
    code = "mfa_already_enabled"
    status = 409
    message = "This second factor is already enabled."


class ReauthenticationRequired(TesseraError):
    """A factor change needs a password or MFA check within TESSERA_MFA_RECENT_AUTH."""

    code = "reauthentication_required"
    status = 401
    message = "Confirm it is you: enter your password or a second factor again."


class MfaChallengeInvalid(TesseraError):
    """The pending MFA login is unknown, finished, or not this user's."""

    code = "mfa_challenge_invalid"
    status = 401
    message = "This sign-in attempt is no longer valid. Sign in again."


class MfaChallengeExpired(MfaChallengeInvalid):
    code = "mfa_challenge_expired"
    message = "This sign-in attempt has expired. Sign in again."


class MfaAttemptsExceeded(MfaChallengeInvalid):
    code = "mfa_attempts_exceeded"
    status = 429
    message = "Too many wrong codes. Sign in again."
    durable = True


class PasskeyInvalid(TesseraError):
    """A passkey response that does not verify (signature, origin, counter, owner)."""

    code = "passkey_invalid"
    status = 400
    message = "The passkey could not be verified."
    durable = True


class PasskeyChallengeInvalid(PasskeyInvalid):
    """The ceremony's challenge is unknown, used, expired or for another purpose."""

    code = "passkey_challenge_invalid"
    message = "This passkey request has expired or was already used. Try again."
