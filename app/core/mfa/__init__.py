"""Multi-factor authentication and passkeys: the one core every page and dialect calls.

Views parse input, call one function here, and shape the result or the error. Every
function works inside the caller's transaction and never commits: the request edge commits
(and also commits errors marked `durable`, so spent attempts and audit events stay).
`client` is always an app.core.context.ClientInfo (IP, user agent) for the audit log.
`session` is the caller's AuthSession; functions that change factors take it and raise
ReauthenticationRequired unless it authenticated within TESSERA_MFA_RECENT_AUTH seconds.

Error codes (app.core.errors): mfa_required, mfa_invalid_code (durable), mfa_code_expired,
mfa_not_enabled, mfa_already_enabled, reauthentication_required, mfa_challenge_invalid,
mfa_challenge_expired, mfa_attempts_exceeded (429, durable), passkey_invalid (durable),
passkey_challenge_invalid, plus validation, wrong_password, rate_limited, not_found,
forbidden.

Signing in (login)
    login.begin(user, *, amr, client=None, trusted_device_token=None, context=None,
                mailbox_proven=False) -> PendingLogin | None
        After a correct password (or magic link) only. None: no second factor needed (none
        enrolled, or a trusted device): start the session with `amr`. Otherwise
        PendingLogin(user, challenge, mfa_token, methods, preferred, expires_in); answer
        mfa_required with the opaque mfa_token (the modernauth dialect may also take
        user_id). `context` (dialect, parked authorization id) comes back on completion.
        mailbox_proven (a sign-in link was the first factor): no email code is offered or
        accepted (the same mailbox twice); MfaRequired when email is the only factor.
    login.pending(*, mfa_token=None, user_id=None) -> PendingLogin   (the live one again)
    login.send_email_code(*, mfa_token=None, user_id=None, client=None) -> None
    login.passkey_options(*, mfa_token=None, user_id=None) -> {"publicKey": {...}}
    login.complete(*, method, value, mfa_token=None, user_id=None, client=None,
                   remember_device=False) -> CompletedLogin
        method: "totp" | "email" | "recovery_code" | "webauthn" (value: the code, or the
        browser's credential.toJSON(), bare or under "credential"). Spends one of the
        TESSERA_MFA_CHALLENGE_ATTEMPTS attempts first; errors carry
        details["attempts_left"]. CompletedLogin(user, amr, method, context,
        trusted_device_token): start the session with `amr` (e.g. ["pwd", "otp", "mfa"]);
        set trusted_device_token as cookie trusted_devices.COOKIE_NAME, max_age
        trusted_devices.max_age(), HttpOnly, Secure, SameSite=Lax.
    login.passwordless_options() -> {"publicKey": {...}}   (discoverable, UV required)
    login.passwordless(credential, *, client=None) -> (User, amr)   e.g. ["hwk", "mfa"]

Factors
    totp.begin_setup(user, *, session, client=None) -> TotpSetup(secret, uri, qr_png_data_url)
    totp.current_setup(user, *, session) -> TotpSetup | None   (the unconfirmed one again)
    totp.enable(user, code, *, session, client=None) -> None
    totp.verify(user, code, *, client=None) -> None
    totp.disable(user, *, code=None, password=None, client=None) -> None   (proof, no session)
    totp.is_enabled(user) -> bool;  totp.setup_pending(user) -> bool   (begun, not confirmed)
    recovery_codes.generate(user, *, session, client=None) -> list[str]   (ten; old set dies)
    recovery_codes.first_set(user, *, session, client=None) -> list[str]   (a set when the
        user has none, else []: hand it out when a first factor is turned on)
    recovery_codes.remaining(user) -> int
    recovery_codes.consume(user, code, *, client=None) -> None
    email_codes.enable(user, *, session, client=None) / disable(...) -> None
    email_codes.send(user, *, client=None) -> None   (through app.core.mail.mailer, template
        email/mfa_code)
    email_codes.verify(user, code, *, client=None) -> None
    email_codes.is_enabled(user) -> bool
    factors.verify(user, method, value, *, client=None) -> list[str]   (amr of the factor)

Passkeys (passkeys)
    registration_options(user, *, session) -> {"publicKey": {...}}
    register(user, credential, *, session, name=None, client=None) -> WebAuthnCredential
    authentication_options(user=None) -> {"publicKey": {...}}
    verify_authentication(credential, *, user=None, client=None) -> VerifiedPasskey
    list_credentials(user) -> list[WebAuthnCredential]   (name, created_at, last_used_at,
        device_type, backed_up, transports, aaguid)
    rename(user, credential_id, name, *, client=None) -> WebAuthnCredential
    delete(user, credential_id, *, session, client=None) -> None
    credential_from_body(body) -> dict   (the body, or its "credential" member)
    relying_party() -> RelyingParty(id, name, origins)
    credential_id arguments accept the row id or the base64url credential id.

Trusted devices (trusted_devices)
    issue(user, *, client=None, session=None) -> (TrustedDevice, token)
    trust_session(user, session, *, client=None) -> (TrustedDevice, token)   (an API client
        asks to be remembered; recent session and an enabled factor required)
    attach(device, session);  for_session(user, session_id) -> TrustedDevice | None
        (a device remembers the newest session started on it)
    verify(user, token) -> TrustedDevice | None
    list_for_user(user) -> list[TrustedDevice]   (label = user agent, created_at, ...)
    revoke(user, device_id, *, client=None) -> None
    revoke_all(user, *, reason, client=None) -> int
        Call it from "sign out everywhere". A password change or reset needs no call: a
        device trusted before users.password_changed_at no longer counts.

Enrolled methods and preference (enrolment)
    enabled_methods(user) -> list[str];  is_enabled(user) -> bool
    preferred_method(user) -> str | None;  set_preferred(user, method, *, client=None)

Status and administration (status)
    status(user) -> MfaStatus(enabled, methods, preferred, totp, email, passkeys,
                              recovery_codes_remaining, trusted_devices)
    admin_reset(target, *, actor, client=None, reason=None) -> None   (admins only, audited)
    (app.core.admin.reset_mfa names the account by id or address, for the JSON API)

Recent authentication (recent_auth)
    is_recent(session) -> bool;  require(session, user) -> None
    confirm_password(session, password, *, client=None) -> None
    factors.confirm_factor(session, method, value, *, client=None) -> None
    mark_fresh(session, amr) -> None   (after any other fresh authentication)

The JSON API signs in through app.core.api_logins (password_login / sign_in with
mfa_methods, finish_mfa_login, send_mfa_email_code, mfa_passkey_options), which binds each
pending login to the dialect that started it.

Lower level, for special cases: challenges (start/find/spend_attempt/finish),
webauthn_challenges (create/consume), amr (combine, passkey).
"""
