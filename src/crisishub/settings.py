"""Django settings for crisishub, read from the environment.

Every setting that an operator may change is read here through the typed
helpers below, so this module is the one place to look them up. SQLite in
the data directory is the default database; ``DATABASE_URL`` selects
PostgreSQL (or another database) instead.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

from crisishub import datadir
from crisishub.core.errors import SettingError

PACKAGE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    """Return an environment variable, or the contents of the file named by
    ``NAME_FILE`` when that is set (for secrets mounted as files)."""
    file_path = os.environ.get(name + "_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise SettingError(f"Cannot read {name}_FILE {file_path}: {error.strerror}.") from None
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingError(
        f"Invalid value {value!r} for {name}: use one of 1, 0, true, false, yes, no."
    )


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingError(
            f"Invalid value {value!r} for {name}: expected a whole number."
        ) from None
    if minimum is not None and number < minimum:
        raise SettingError(f"Invalid value {value!r} for {name}: use {minimum} or more.")
    return number


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise SettingError(f"Invalid value {value!r} for {name}: expected a number.") from None


DATA_DIR = Path(env_str("CRISISHUB_DATA_DIR", str(Path.cwd() / "var"))).resolve()
# The data folder is needed for the default SQLite database and for a
# secret key that is not given in the environment.
DATA_DIR_NEEDED = not env_str("DATABASE_URL") or not env_str("CRISISHUB_SECRET_KEY")


DEBUG = env_bool("CRISISHUB_DEBUG", False)
ALLOWED_HOSTS = [
    host.strip()
    for host in env_str("CRISISHUB_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if host.strip()
]
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in env_str("CRISISHUB_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "crisishub.audit",
    "crisishub.core",
    "crisishub.api",
    "crisishub.consoles",
    "crisishub.followup",
    "crisishub.safetyplan",
]

MIDDLEWARE = [
    # First, so that it also turns the CSRF and other middleware error
    # pages under /api/ into the API's JSON error body.
    "crisishub.api.middleware.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Django's SessionMiddleware, except that the team page's polls do not
    # renew the session (see consoles/sessions.py).
    "crisishub.consoles.sessions.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "crisishub.audit.middleware.AuditActorMiddleware",
]

ROOT_URLCONF = "crisishub.urls"
ASGI_APPLICATION = "crisishub.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database_settings() -> dict:
    url = env_str("DATABASE_URL")
    if url:
        try:
            config = dj_database_url.parse(url, conn_max_age=60)
        except ValueError:
            scheme = url.partition("://")[0] if "://" in url else "(none)"
            raise SettingError(
                f"Invalid DATABASE_URL: unknown scheme {scheme!r}; use "
                "postgres://USER@HOST:PORT/NAME or sqlite:////absolute/path.sqlite3."
            ) from None
    else:
        config = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "crisishub.sqlite3"),
        }
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE transactions take the write lock at BEGIN, so two
        # writers queue on busy_timeout instead of failing on upgrade.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON;"
            ),
        }
    config.setdefault("TEST", {})
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # A file, not memory, so threads and a live server share the test
        # database.
        config["TEST"].setdefault("NAME", str(DATA_DIR / "test_crisishub.sqlite3"))
    return config


DATABASES = {"default": _database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _channel_layers() -> dict:
    redis_url = env_str("CRISISHUB_REDIS_URL")
    if redis_url:
        return {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                # Redis pub/sub channels ignore the database number, so
                # deployments sharing one Redis keep apart by prefix.
                "CONFIG": {
                    "hosts": [redis_url],
                    "prefix": env_str("CRISISHUB_REDIS_PREFIX", "crisishub"),
                },
            }
        }
    return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


CHANNEL_LAYERS = _channel_layers()

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Sessions end after this many seconds without a request that counts as
# activity, which is any request except those marked passive_request.
SESSION_COOKIE_AGE = env_int("CRISISHUB_SESSION_IDLE_SECONDS", 30 * 60, minimum=1)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("CRISISHUB_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("CRISISHUB_TIME_ZONE", "America/Los_Angeles")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
SERVE_STATIC = env_bool("CRISISHUB_SERVE_STATIC", True)

# Constants of the straight-line travel-time model (estimates); keys are
# the model's constructor arguments.
TRAVEL_MODEL: dict = {}

# Map tiles: an empty URL means the map draws without a base layer.
MAP_TILE_URL = env_str("CRISISHUB_MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = env_str("CRISISHUB_MAP_TILE_ATTRIBUTION", "")

# Minutes a team on scene may go without a check-in before the dispatcher
# is alerted.
CHECKIN_INTERVAL_MINUTES = env_int("CRISISHUB_CHECKIN_MINUTES", 20, minimum=1)

def _drop_denied_traceback(record) -> bool:
    """Log a 403 as one line: the audit trail records the denial itself."""
    if getattr(record, "status_code", None) == 403:
        record.exc_info = None
        record.exc_text = None
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # Local time with its UTC offset, so log lines compare across zones.
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        },
    },
    "filters": {
        "no_denied_traceback": {
            "()": "django.utils.log.CallbackFilter", "callback": _drop_denied_traceback,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler", "formatter": "plain", "filters": ["no_denied_traceback"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("CRISISHUB_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}


def _load_secret_key() -> str:
    """Return SECRET_KEY from the environment, or a key kept in DATA_DIR.

    The key is generated on first start so a fresh install needs no setup,
    and kept so that sessions survive a restart. Without a data folder the
    key lives only in memory, because such a process keeps no sessions.
    The ``crisishub`` command stops any command that would need them.
    """
    key = env_str("CRISISHUB_SECRET_KEY")
    if key:
        return key
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(50)
    if DATA_DIR.is_dir():
        key_file.write_text(key, encoding="utf-8")
        key_file.chmod(0o600)
    return key


# Last, so that an invalid setting above stops the start before anything
# is written.
if DATA_DIR_NEEDED and datadir.create_allowed:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
SECRET_KEY = _load_secret_key()
