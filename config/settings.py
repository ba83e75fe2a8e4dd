"""Every setting Tessera reads, declared once with its type, default and meaning.

Configuration comes only from ``TESSERA_*`` environment variables. ``load_settings`` turns
them into a plain dict of Flask config keys (the variable name without the prefix) and
refuses to start with a one-line reason when a value is malformed or a production
requirement is missing. The README's configuration table mirrors this list; a test keeps
the two in step.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIX = "TESSERA_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("expected a positive whole number")
    return value


def _positive_seconds(raw: str) -> float:
    """Seconds, fractions allowed (`0.5`): the database timeouts are short."""
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError("expected a positive number of seconds")
    return value


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError("expected one of " + ", ".join(allowed))
        return value

    return parse


def _algorithm(*allowed: str) -> Callable[[str], str]:
    """Like _choice, but keeps the canonical spelling: JOSE algorithm names are case-sensitive."""
    by_lower = {name.lower(): name for name in allowed}

    def parse(raw: str) -> str:
        value = by_lower.get(raw.strip().lower())
        if value is None:
            raise ValueError("expected one of " + ", ".join(allowed))
        return value

    return parse


def _long_secret(raw: str) -> str:
    if len(raw) < 32:
        raise ValueError("expected at least 32 characters")
    return raw


SIGNING_ALGORITHMS = ("ES256", "RS256", "EdDSA")


def _mapping(value_parse: Callable[[str], Any], separator: str = ","):
    """`a=1,b=2` into {"a": 1, "b": 2}."""
    def parse(raw: str) -> dict[str, Any]:
        result = {}
        for item in filter(None, (part.strip() for part in raw.split(separator))):
            key, equals, value = item.partition("=")
            if not equals or not key.strip():
                raise ValueError(f"expected name=value items, got {item!r}")
            result[key.strip()] = value_parse(value.strip())
        return result

    return parse


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("expected a whole number, 0 or more")
    return value


def _url(raw: str) -> str:
    value = raw.strip().rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise ValueError("expected an http(s) URL")
    return value


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str

    @property
    def env(self) -> str:
        return PREFIX + self.name


SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", _choice("development", "production"), "development",
            "`production` refuses to start without `TESSERA_SECRET_KEY` and an https issuer."),
    Setting("SECRET_KEY", str, None,
            "Signs cookies and derives encryption keys. Development generates one and keeps it "
            "in `instance/secret_key`."),
    Setting("ISSUER", _url, None,
            "Public base URL (OIDC issuer, links in mail). Defaults to "
            "`http://127.0.0.1:5000`, or the host and port given to `tessera serve`."),
    Setting("DATABASE_URL", str, None,
            "SQLAlchemy URL. Defaults to SQLite at `instance/tessera.db`; use "
            "`postgresql+psycopg://...` for PostgreSQL."),
    Setting("DATABASE_CONNECT_TIMEOUT", _positive_int, 3,
            "Seconds to wait while opening a PostgreSQL connection (psycopg `connect_timeout`; "
            "PostgreSQL counts at least 2)."),
    Setting("DATABASE_STATEMENT_TIMEOUT", _positive_seconds, 5.0,
            "Seconds one SQL statement may run (PostgreSQL `statement_timeout`); Tessera stops "
            "waiting for an answer one second later, so a frozen connection fails too."),
    Setting("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT", _positive_seconds, 30.0,
            "Seconds PostgreSQL keeps a session that sits idle inside a transaction "
            "(`idle_in_transaction_session_timeout`) before ending it and freeing its locks."),
    Setting("DATABASE_POOL_TIMEOUT", _positive_seconds, 5.0,
            "Seconds a request waits for a free connection from the pool."),
    Setting("HEALTH_TIMEOUT", _positive_seconds, 2.0,
            "Seconds `/health` waits for the database before reporting it as `timeout`."),
    Setting("REDIS_URL", str, "",
            "Redis for rate limits and short-lived state shared by every instance. "
            "Empty: in-process memory."),
    Setting("KEY_PREFIX", str, "tessera",
            "Prefix of every Redis key, so several deployments can share one Redis."),
    Setting("REDIS_TIMEOUT", _positive_int, 2,
            "Seconds to wait for Redis to connect or answer; past it Redis counts as down "
            "(sign-ins then answer 503: see \"When Redis is down\" in the README)."),
    Setting("QUEUE_BUDGET_MS", _non_negative_int, 5000,
            "Milliseconds a request may wait in the server's queue (from the moment gunicorn "
            "accepted it, or a trusted proxy's `X-Request-Start`) before it is answered 503 "
            "with `Retry-After` at once instead of late. `0`: no limit."),
    Setting("QUEUE_MAX_DEPTH", _non_negative_int, 0,
            "Requests already waiting in a gunicorn worker's queue beyond which a new one is "
            "answered 503 with `Retry-After` as soon as a thread reaches it. `0`: no limit."),
    Setting("SMTP_HOST", str, "", "SMTP relay host. Empty: mail goes to the outbox table."),
    Setting("SMTP_PORT", _positive_int, 587, "SMTP relay port."),
    Setting("SMTP_USERNAME", str, "", "SMTP login, if the relay needs one."),
    Setting("SMTP_PASSWORD", str, "", "SMTP password."),
    Setting("SMTP_SECURITY", _choice("starttls", "ssl", "none"), "starttls",
            "`starttls`, `ssl` (implicit TLS) or `none`."),
    Setting("MAIL_FROM", str, "Tessera <no-reply@localhost>", "Sender of every message."),
    Setting("SMTP_TIMEOUT", _positive_int, 5,
            "Seconds to wait for the SMTP relay to connect or answer before the attempt "
            "counts as failed."),
    Setting("MAIL_MAX_ATTEMPTS", _positive_int, 6,
            "Delivery attempts per message (30 s, 2 min, 8 min, ... apart) before it is "
            "marked failed."),
    Setting("EMAIL_ALLOW_SPECIAL_USE_DOMAINS", _bool, False,
            "Accept email addresses at special-use domains (`.test`, `.localhost`, `.local`, "
            "`.invalid`, `.onion`, `.arpa`) in production; development always accepts them."),
    Setting("EMAIL_VERIFICATION", _bool, True,
            "Send a verification email at sign-up."),
    Setting("EMAIL_VERIFICATION_TTL", _positive_int, 24 * 3600,
            "Seconds an email verification link or code stays valid."),
    Setting("PASSWORD_RESET_TTL", _positive_int, 30 * 60,
            "Seconds a password reset link stays valid."),
    Setting("MAGIC_LINK_TTL", _positive_int, 15 * 60,
            "Seconds a sign-in link stays valid."),
    Setting("MFA_EMAIL_CODE_TTL", _positive_int, 10 * 60,
            "Seconds a second-factor code sent by mail at login stays valid."),
    Setting("EMAIL_CODE_ATTEMPTS", _positive_int, 5,
            "Wrong guesses allowed against one 6-digit email code before it stops working."),
    Setting("MAIL_SEND_LIMIT", str, "3 per hour",
            "Password reset and sign-in link emails sent to one address; more requests are "
            "answered the same but send nothing."),
    Setting("SMS_BACKEND", _choice("outbox", "http"), "outbox",
            "`outbox`: text messages stay in the database (listed at /dev/outbox in "
            "development); `http`: each is POSTed to `TESSERA_SMS_HTTP_URL`."),
    Setting("SMS_HTTP_URL", str, "", "Where the `http` SMS backend POSTs each message."),
    Setting("SMS_HTTP_TEMPLATE", str, '{"to": "{to}", "text": "{text}"}',
            "JSON body the `http` SMS backend sends; `{to}` and `{text}` are replaced by the "
            "number and the message (JSON-escaped)."),
    Setting("SMS_HTTP_AUTHORIZATION", str, "",
            "`Authorization` header value the `http` SMS backend sends, if the gateway needs "
            "one (kept out of logs)."),
    Setting("SMS_SEND_LIMIT", str, "3 per hour",
            "One-time codes sent by SMS to one number; more requests are refused (429)."),
    Setting("PHONE_VERIFICATION_TTL", _positive_int, 10 * 60,
            "Seconds a phone verification code sent by SMS stays valid."),
    Setting("EVENTCHAIN_REQUIRE_VERIFIED_EMAIL", _bool, False,
            "The eventchain dialect refuses login to accounts whose email is not verified "
            "(`AUTH_002`), as its document describes."),
    Setting("RATELIMIT_ENABLED", _bool, True,
            "`false` switches every rate limit and login throttle off (tests, benchmarks)."),
    Setting("LOGIN_ACCOUNT_LIMIT", str, "10 per 15 minutes",
            "Password attempts allowed against one account; a success resets the count."),
    Setting("LOGIN_IP_LIMIT", str, "100 per 15 minutes", "Password attempts allowed from one IP."),
    Setting("PASSWORD_RECHECK_LIMIT", str, "10 per 15 minutes",
            "Password re-checks of one signed-in account (changing the password, deleting "
            "the account, re-authenticating before a security change), from any address; "
            "more are refused with 429 and `Retry-After`. A right password resets the count."),
    Setting("ARGON2_MEMORY_KIB", _positive_int, 19456, "argon2id memory cost in KiB (19 MiB)."),
    Setting("ARGON2_TIME_COST", _positive_int, 2, "argon2id iterations."),
    Setting("ARGON2_PARALLELISM", _positive_int, 1, "argon2id lanes."),
    Setting("PASSWORD_MIN_LENGTH", _positive_int, 8, "Shortest accepted password."),
    Setting("PASSWORD_MAX_LENGTH", _positive_int, 256, "Longest accepted password."),
    Setting("SESSION_IDLE_TIMEOUT", _positive_int, 3 * 24 * 3600,
            "Seconds of inactivity after which a sign-in session ends."),
    Setting("SESSION_ABSOLUTE_TIMEOUT", _positive_int, 30 * 24 * 3600,
            "Seconds after sign-in at which a session ends regardless of activity."),
    Setting("TRUST_PROXY_HOPS", lambda raw: int(raw), 0,
            "Number of reverse proxies whose X-Forwarded-* headers are trusted."),
    Setting("API_MOUNTS", str, "",
            "Where each JSON dialect is mounted, over the defaults: e.g. "
            "`eventchain=/v1/auth,modernauth=off`."),
    Setting("API_TOKEN_TTLS", _mapping(_positive_int),
            {"modernauth": 900, "cosmicsync": 3600, "apiauth": 30 * 24 * 3600, "apiv1": 900,
             "eventchain": 3600},
            "Access-token lifetime per dialect in seconds, e.g. `modernauth=900,apiv1=600`; "
            "defaults follow each document."),
    Setting("API_EXPIRED_TOKEN_GRACE", _positive_int, 7 * 24 * 3600,
            "How long after expiry cosmicsync may still refresh with an expired access token "
            "(its session must be live)."),
    Setting("API_RATE_LIMITS", _mapping(str, separator=";"), {},
            "Overrides of the documented JSON API rate limits, e.g. "
            "`modernauth.login=20 per 15 minutes;eventchain.register=10 per hour`."),
    Setting("PKCE_REQUIRED", _bool, True,
            "Require PKCE (S256) from confidential clients too; public clients always need it."),
    Setting("LOG_LEVEL", _choice("debug", "info", "warning", "error"), "info", "Log level."),
    Setting("KEY_ENCRYPTION_KEY", _long_secret, None,
            "Secret (at least 32 characters) from which the AES-256-GCM key that encrypts "
            "signing keys at rest is derived (HKDF). Empty: derived from `TESSERA_SECRET_KEY`. "
            "Set it on its own so the secret key can change without orphaning signing keys."),
    Setting("KEY_ROTATION_DAYS", _positive_int, 90,
            "Age in days at which `tessera keys rotate --if-due` replaces an active signing key."),
    Setting("KEY_RETIRED_GRACE_DAYS", _positive_int, 7,
            "Days a retired signing key stays in the JWKS, so tokens it signed keep verifying."),
    Setting("ACCESS_TOKEN_ALG", _algorithm(*SIGNING_ALGORITHMS), "ES256",
            "Algorithm that signs access tokens: `ES256`, `RS256` or `EdDSA`."),
    Setting("ID_TOKEN_ALG", _algorithm(*SIGNING_ALGORITHMS), "RS256",
            "Default algorithm for ID tokens (`RS256` is the one every relying party supports); "
            "a client may ask for `ES256` or `EdDSA`."),
    Setting("ACCESS_TOKEN_TTL", _positive_int, 900, "Access token lifetime in seconds."),
    Setting("REFRESH_TOKEN_TTL", _positive_int, 30 * 24 * 3600,
            "Absolute refresh token lifetime in seconds, counted from the first token of a "
            "family; rotation never extends it."),
    Setting("REFRESH_TOKEN_IDLE_TTL", _positive_int, 14 * 24 * 3600,
            "Seconds a refresh token may go unused before it expires."),
    Setting("AUTH_CODE_TTL", _positive_int, 60, "Authorization code lifetime in seconds."),
    Setting("TOTP_ISSUER", str, "Tessera",
            "Issuer label authenticator apps show next to a TOTP entry."),
    Setting("MFA_CHALLENGE_TTL", _positive_int, 300,
            "Seconds a login has to complete its second factor after the password."),
    Setting("MFA_CHALLENGE_ATTEMPTS", _positive_int, 5,
            "Second-factor attempts allowed against one pending MFA login."),
    Setting("MFA_CODE_LIMIT", str, "10 per 15 minutes",
            "Authenticator-app codes checked for one account; more are refused (429)."),
    Setting("MFA_RECENT_AUTH", _positive_int, 600,
            "Seconds after a password or MFA check during which factors may be changed "
            "without authenticating again."),
    Setting("TRUSTED_DEVICE_DAYS", _positive_int, 30,
            "Days a browser that asked to be remembered skips the second factor."),
    Setting("WEBAUTHN_RP_ID", str, "",
            "WebAuthn relying party ID (a domain). Empty: the host of `TESSERA_ISSUER`."),
    Setting("WEBAUTHN_RP_NAME", str, "Tessera", "Name passkey prompts show for this site."),
    Setting("WEBAUTHN_ORIGINS", str, "",
            "Comma-separated origins passkey ceremonies may come from. Empty: the origin of "
            "`TESSERA_ISSUER`."),
    Setting("WEBAUTHN_CHALLENGE_TTL", _positive_int, 300,
            "Seconds a passkey registration or sign-in ceremony may take."),
)


def instance_path() -> Path:
    return PROJECT_ROOT / "instance"


def _development_secret_key() -> str:
    """Create (once) and return a random key kept under instance/, so restarts keep sessions."""
    path = instance_path() / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(environ: dict[str, str] | None = None,
                  overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read every declared TESSERA_* variable, validate it, and fill derived defaults."""
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            values[setting.name] = overrides[setting.name]
            continue
        raw = environ.get(setting.env)
        if raw is None or raw == "":
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{setting.env}={raw!r} is invalid: {exc}") from None
    for key, value in overrides.items():
        values.setdefault(key, value)
    defaults_of_maps = {s.name: s.default for s in SETTINGS if isinstance(s.default, dict)}
    for name, default in defaults_of_maps.items():
        # A partial override (one dialect's TTL) keeps the other defaults.
        if values[name] is not default:
            values[name] = {**default, **values[name]}

    production = values["ENV"] == "production"
    if not values["SECRET_KEY"]:
        if production:
            raise ConfigError("TESSERA_SECRET_KEY must be set when TESSERA_ENV=production")
        values["SECRET_KEY"] = _development_secret_key()
    if len(values["SECRET_KEY"]) < 32:
        raise ConfigError("TESSERA_SECRET_KEY must be at least 32 characters")
    if not values["ISSUER"]:
        values["ISSUER"] = "http://127.0.0.1:5000"
    if production and not values["ISSUER"].startswith("https://"):
        raise ConfigError("TESSERA_ISSUER must be an https URL when TESSERA_ENV=production")
    if not values["DATABASE_URL"]:
        instance_path().mkdir(parents=True, exist_ok=True)
        values["DATABASE_URL"] = f"sqlite:///{instance_path() / 'tessera.db'}"
    if values["PASSWORD_MIN_LENGTH"] > values["PASSWORD_MAX_LENGTH"]:
        raise ConfigError("TESSERA_PASSWORD_MIN_LENGTH exceeds TESSERA_PASSWORD_MAX_LENGTH")
    return values
