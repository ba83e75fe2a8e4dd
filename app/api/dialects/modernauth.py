"""modernauth (api-docs 004): bare objects, `{"error", "message"}` on failure, mounted at /v1."""

from __future__ import annotations

from flask import current_app

from app.api.common import Body, Reply, client_info, principal, read_json
from app.api.dialect import DEFAULT_AUTH_LIMITS, Dialect, bare_error_body
from app.core import accounts, api_logins, audit, sessions
from app.core.mail import email_verification, magic_link, password_reset
from app.core.mfa import factors

dialect = Dialect(
    id="modernauth", title="ModernAuth API", default_mount="/v1", error_body=bare_error_body,
    # The document's table; the endpoints it leaves out get limits of the same order.
    rate_limits={**DEFAULT_AUTH_LIMITS, "magic_link": "3 per hour",
                 "forgot_password": "5 per hour", "verify": "10 per 15 minutes",
                 "send_verification": "5 per hour"},
)


# --- schemas -------------------------------------------------------------------------------

class RegisterBody(Body):
    email: str
    password: str
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


class LoginBody(Body):
    email: str
    password: str
    # A trusted device's token (from login/mfa with remember_device, or trust-device).
    device_token: str | None = None


class RefreshBody(Body):
    refresh_token: str


class ChangePasswordBody(Body):
    current_password: str
    new_password: str


class EmailBody(Body):
    email: str


class TokenBody(Body):
    token: str


class ResetPasswordBody(Body):
    token: str
    new_password: str


class MagicLinkVerifyBody(Body):
    token: str
    allow_registration: bool = False
    device_token: str | None = None


class UserOut(Reply):
    id: str
    email: str
    username: str | None = None
    first_name: str = ""
    last_name: str = ""
    phone: str | None = None
    is_email_verified: bool
    is_active: bool
    created_at: str
    updated_at: str | None = None


class TokensOut(Reply):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


class SessionOut(Reply):
    user: UserOut
    tokens: TokensOut


class MessageOut(Reply):
    message: str


# --- shaping ---------------------------------------------------------------------------------

def user_out(user) -> dict:
    return {
        "id": str(user.id), "email": user.email, "username": user.username,
        "first_name": user.first_name, "last_name": user.last_name, "phone": user.phone,
        "is_email_verified": user.email_verified, "is_active": user.is_active,
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat() if user.updated_at else None,
    }


def session_out(issued: api_logins.IssuedTokens) -> dict:
    return {"user": user_out(issued.user),
            "tokens": {"access_token": issued.access_token,
                       "refresh_token": issued.refresh_token, "token_type": "Bearer",
                       "expires_in": issued.expires_in}}


# --- views -----------------------------------------------------------------------------------

@dialect.route("/auth/register", "POST", summary="Register a new user", request=RegisterBody,
               response=SessionOut, status=201, limit="register")
def register():
    body = read_json(RegisterBody)
    user = accounts.create_user(email=body.email, password=body.password,
                                username=body.username, first_name=body.first_name,
                                last_name=body.last_name, phone=body.phone,
                                client=client_info())
    issued = api_logins.start_for_new_user(user, dialect=dialect.id, client=client_info())
    return session_out(issued), 201


@dialect.route("/auth/login", "POST", summary="Login with email/password", request=LoginBody,
               response=SessionOut, limit="login")
def login():
    body = read_json(LoginBody)
    result = api_logins.password_login(body.email, body.password, dialect=dialect.id,
                                       client=client_info(), mfa_methods=factors.METHODS,
                                       device_token=body.device_token)
    return modernauth_mfa.login_out(result)


@dialect.route("/auth/refresh", "POST", summary="Rotate refresh token", request=RefreshBody,
               response=SessionOut, limit="refresh")
def refresh():
    body = read_json(RefreshBody)
    return session_out(api_logins.refresh(body.refresh_token, dialect=dialect.id))


@dialect.route("/auth/logout", "POST", summary="Revoke session & tokens", response=MessageOut,
               auth=True)
def logout():
    api_logins.logout(principal(), client=client_info())
    return {"message": "Logged out."}


@dialect.route("/auth/me", "GET", summary="Get current user profile", response=UserOut,
               auth=True)
def me():
    return user_out(principal().user)


@dialect.route("/auth/settings", "GET", summary="Public authentication settings")
def settings():
    return {
        "registration_enabled": True,
        "password_min_length": current_app.config["PASSWORD_MIN_LENGTH"],
        "password_max_length": current_app.config["PASSWORD_MAX_LENGTH"],
        # What this server offers; each user turns factors on through /auth/mfa/*.
        "mfa": {"totp": True, "email": True, "webauthn": True, "backup_codes": True,
                "trusted_device_days": current_app.config["TRUSTED_DEVICE_DAYS"]},
        "magic_link_enabled": True,
        "email_verification_required": False,
        "access_token_ttl": api_logins.token_lifetime(dialect.id),
    }


@dialect.route("/auth/change-password", "POST", summary="Change password",
               request=ChangePasswordBody, response=MessageOut, auth=True)
def change_password():
    caller = principal()
    body = read_json(ChangePasswordBody)
    accounts.change_password(caller.user, current_password=body.current_password,
                             new_password=body.new_password, client=client_info(),
                             keep_session_id=caller.session.id if caller.session else None)
    return {"message": "Password changed. Other sessions were signed out."}


@dialect.route("/auth/revoke-all-sessions", "POST", summary="Revoke all user sessions",
               response=MessageOut, auth=True)
def revoke_all_sessions():
    count = api_logins.revoke_all_sessions(principal().user, client=client_info())
    return {"message": "All sessions revoked.", "revoked_sessions": count}


def _session_out(row, current_id) -> dict:
    return {"id": str(row.id), "ip": row.ip_address, "user_agent": row.user_agent,
            "created_at": row.created_at.isoformat(),
            "last_seen_at": row.last_seen_at.isoformat(), "amr": list(row.amr or []),
            "current": row.id == current_id}


@dialect.route("/sessions", "GET", summary="List active sessions", auth=True)
def session_list():
    caller = principal()
    current_id = caller.session.id if caller.session else None
    return {"sessions": [_session_out(row, current_id)
                         for row in sessions.active_sessions(caller.user)]}


@dialect.route("/sessions/history", "GET", summary="Login history", auth=True)
def session_history():
    caller = principal()
    events = audit.events_for_user(caller.user.id, kinds=audit.LOGIN_EVENTS, limit=100)
    return {"history": [{"id": str(e.id), "event_type": e.event, "ip": e.ip_address,
                         "user_agent": e.user_agent, "created_at": e.created_at.isoformat()}
                        for e in events]}


# --- email verification, password reset, sign-in links -----------------------------------------

SENT_IF_EXISTS = "If that address has an account, a message is on its way."


@dialect.route("/auth/send-verification", "POST", summary="Send verification email",
               response=MessageOut, auth=True, limit="send_verification")
def send_verification():
    email_verification.resend_or_refuse(principal().user, client=client_info())
    return {"message": "Verification email sent."}


@dialect.route("/auth/verify-email", "POST", summary="Verify email with token",
               request=TokenBody, response=UserOut, limit="verify")
def verify_email():
    body = read_json(TokenBody)
    return user_out(email_verification.verify_token(body.token, client=client_info()))


@dialect.route("/auth/forgot-password", "POST", summary="Request password reset email",
               request=EmailBody, response=MessageOut, limit="forgot_password")
def forgot_password():
    body = read_json(EmailBody)
    password_reset.request(body.email, client=client_info())
    return {"message": SENT_IF_EXISTS}


@dialect.route("/auth/reset-password", "POST", summary="Reset password with token",
               request=ResetPasswordBody, response=MessageOut, limit="verify",
               fields={"password": "new_password"})
def reset_password():
    body = read_json(ResetPasswordBody)
    password_reset.reset(body.token, body.new_password, client=client_info())
    return {"message": "Password reset. Every session was signed out."}


@dialect.route("/auth/magic-link/send", "POST", summary="Request a magic link email",
               request=EmailBody, response=MessageOut, limit="magic_link")
def magic_link_send():
    body = read_json(EmailBody)
    # An unknown address is sent a sign-up link; using it needs allow_registration.
    magic_link.send(body.email, client=client_info(), allow_registration=True)
    return {"message": "If that address can sign in, a link is on its way."}


@dialect.route("/auth/magic-link/verify", "POST",
               summary="Verify magic link token and create session",
               request=MagicLinkVerifyBody, response=SessionOut, limit="verify")
def magic_link_verify():
    body = read_json(MagicLinkVerifyBody)
    user = magic_link.verify(body.token, client=client_info(),
                             allow_registration=body.allow_registration)
    # A link is a first factor only: a user with MFA gets the mfa_required answer.
    return modernauth_mfa.login_out(api_logins.sign_in(
        user, amr=magic_link.AMR, dialect=dialect.id, client=client_info(),
        mfa_methods=factors.METHODS, device_token=body.device_token))


# The MFA, passkey and device routes register on `dialect` too (kept apart for size).
from app.api.dialects import modernauth_mfa  # noqa: E402
