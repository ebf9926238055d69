"""Django settings for OpenIPA, read from environment variables.

Every setting that differs between a laptop and production comes from the environment through the small
parsers below, which fail loudly on a value they do not understand.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parents[3]
VAR_DIR = Path(os.environ.get("OPENIPA_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean (use true/false)")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _secret_key() -> str:
    """The SECRET_KEY from the environment, else one generated once and kept in var/ for this install."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "openipa.core",
    "openipa.accounts",
    "openipa.network",
    "openipa.credentialing",
    "openipa.contracts",
    "openipa.membership",
    "openipa.ledger",
    "openipa.capitation",
    "openipa.utilization",
    "openipa.claims",
    "openipa.messenger",
    "openipa.clinical",
    "openipa.quality",
    "openipa.risk",
    "openipa.performance",
    "openipa.incentives",
    "openipa.savings",
    "openipa.association",
    "openipa.board",
    "openipa.governance",
    "openipa.exports",
    "openipa.gateway",
    "openipa.web",
    "openipa.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "openipa.web.middleware.AuditAddressMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "openipa.web.middleware.HtmxLoginRedirectMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "openipa.config.urls"
WSGI_APPLICATION = "openipa.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "openipa.web.context.navigation",
            ],
        },
    }
]


SQLITE_CACHE_KIB = int(os.environ.get("SQLITE_CACHE_KIB", str(128 * 1024)))
"""Page cache per SQLite connection (allocated as used): big batches (a million-row run, an audit index of a
large statement) touch indexes far larger than SQLite's 2 MiB default, and spill them to disk over and over."""


def _database() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    else:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        config = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "openipa.sqlite3")}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web server read while a batch run writes; IMMEDIATE takes the write lock at the start
        # of a transaction so two writers queue instead of failing half-way with "database is locked"; a page
        # cache of SQLITE_CACHE_KIB.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            f"PRAGMA cache_size=-{SQLITE_CACHE_KIB};",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    config.setdefault("TEST", {})
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# Failed-login throttling: this many failures for one user name or one address within the window locks
# further attempts until the window has passed.
LOGIN_THROTTLE_FAILURES = int(os.environ.get("LOGIN_THROTTLE_FAILURES", "5"))
LOGIN_THROTTLE_WINDOW_SECONDS = int(os.environ.get("LOGIN_THROTTLE_WINDOW_SECONDS", "900"))

SECURE_HTTPS = env_bool("SECURE_HTTPS", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SECURE_HTTPS
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_HTTPONLY = False
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_HSTS_SECONDS = 31536000 if SECURE_HTTPS else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "America/Los_Angeles")
# The state whose law sets utilization management clocks and notices when a member's address names none.
IPA_STATE = os.environ.get("IPA_STATE", "CA").strip().upper()[:2]
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves from finders in place; the directory only has to exist (collectstatic fills it).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# The IPA itself as the originator of its ACH payments (NACHA files): its name, employer id and its bank.
# Set them for the real organization; the defaults are the demo IPA's (a documentation routing number).
IPA_NAME = os.environ.get("IPA_NAME", "OPEN IPA DEMO")
IPA_TIN = os.environ.get("IPA_TIN", "951234567")
IPA_BANK_NAME = os.environ.get("IPA_BANK_NAME", "DEMO BANK")
IPA_BANK_ROUTING = os.environ.get("IPA_BANK_ROUTING", "121000358")
IPA_BANK_ACCOUNT = os.environ.get("IPA_BANK_ACCOUNT", "000123456789")
"""The IPA's own account at that bank (BPR07 of the 835s it sends with an ACH payment)."""
IPA_ADDRESS = os.environ.get("IPA_ADDRESS", "100 DEMO WAY|PASADENA|CA|91101")
"""The IPA's address as street|city|state|ZIP (the payer's address on the 835s it sends)."""
IPA_CLAIMS_PHONE = os.environ.get("IPA_CLAIMS_PHONE", "6265550100")
"""The claims department's phone (PER*BL on the 835s)."""
