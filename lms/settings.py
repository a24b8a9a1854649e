"""Settings for the LMS, read from the environment (12-factor).

Every setting a deployment may change is an environment variable; the defaults
give a working development site with no server at all (SQLite and kombu's
filesystem transport under var/).
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from lms.keys import DEVELOPMENT_FIELD_ENCRYPTION_KEY, DEVELOPMENT_SECRET_KEY, production_key_problems

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LMS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# The development keys are public (lms/keys.py): only DEBUG falls back to them, and with DEBUG
# off the settings refuse to load on them (the end of this file).
SECRET_KEY = os.environ.get("SECRET_KEY", "") or (DEVELOPMENT_SECRET_KEY if DEBUG else "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

# The public address of this site; OAuth redirect URLs and links in emails are built from it.
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "lms",
    "axes",
    "csp",
    "seminars",
    "virtualmeeting",
    "virtualmeeting_zoom",
    "virtualmeeting_teams",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "lms.csp.SitePolicyCSPMiddleware",  # django-csp's, the site's policy built once (lms/csp.py)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a refused login into the login page with the lockout message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lms.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "seminars.context_processors.navigation",
            ],
            # {% url %} with a remembered reverse (lms.urlcache).
            "builtins": ["lms.templatetags.lms_url"],
        },
    },
]

WSGI_APPLICATION = "lms.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'lms.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Login lockout (django-axes) -------------------------------------------------
# Axes first: it refuses a locked-out (username, address) pair before any password is checked.
# lms.auth.CachedModelBackend signs people in and reads each request's user from the cache. ModelBackend stays
# listed so that sessions started before it keep working (both share the user's permission caches: no extra
# queries).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "lms.auth.CachedModelBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failures live in the database, shared by every web process (and visible in the admin).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# Per username AND address: an attacker cannot lock a user out from elsewhere (lms/login_lockout.py).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True  # a successful login clears the pair's failures
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # retrying while locked does not extend the lock
AXES_DISABLE_ACCESS_LOG = True  # failures are kept; successful logins are not logged (an ever-growing table)
AXES_CLIENT_IP_CALLABLE = "lms.login_lockout.client_ip"
AXES_USERNAME_CALLABLE = "lms.login_lockout.attempted_username"
AXES_LOCKOUT_CALLABLE = "lms.login_lockout.lockout_response"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "seminars:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing folder
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env_bool("STATIC_MANIFEST", True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Email -----------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "LMS <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (production: DEBUG off, https) --------------------------------
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
BEHIND_HTTPS_PROXY = env_bool("BEHIND_HTTPS_PROXY", False)
if BEHIND_HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# The OAuth popup talks to its opener window; same-origin-allow-popups keeps that link.
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin-allow-popups"

# --- Encryption at rest (client secrets, OAuth tokens) ---------------------
# A comma-separated list of Fernet keys; the first encrypts, all decrypt.
# Rotate by putting a new key first, running `manage.py rotate_encryption_keys`,
# then dropping the old key.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", DEVELOPMENT_FIELD_ENCRYPTION_KEY if DEBUG else "")

# --- Redis, cache and Celery -------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Django's Redis cache, one client per pool (lms/cache.py).
    CACHES = {"default": {"BACKEND": "lms.cache.RedisCache", "LOCATION": REDIS_URL}}
    # Sessions read from Redis, written through to the database: one query less per page; read in the same
    # round trip as the signed-in user's cached row and facts (lms.sessions).
    SESSION_ENGINE = "lms.sessions"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            # Pages keep a fragment per list row (seminars.page_cache): Django's default of 300 entries would make
            # every page's entries push out the others'.
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }

_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("in", "processed", "control"):
        (_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "in"),
        "data_folder_out": str(_BROKER_DIR / "in"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Tasks wait in the database for long delays (quota resets); the visibility
    # timeout only has to cover one task's run.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "virtualmeeting-sweep": {
        "task": "virtualmeeting.tasks.meeting_sweep",
        "schedule": float(os.environ.get("VIRTUALMEETING_SWEEP_SECONDS", "30")),
    },
    # The meetings not yet finished, often; every meeting (the history too) once a day.
    "seminars-meetings-reconcile": {
        "task": "seminars.tasks.meetings_reconcile",
        "schedule": float(os.environ.get("SEMINARS_RECONCILE_SECONDS", "300")),
    },
    "seminars-meetings-reconcile-finished": {
        "task": "seminars.tasks.meetings_reconcile",
        "schedule": float(os.environ.get("SEMINARS_RECONCILE_FINISHED_SECONDS", str(24 * 3600))),
        "kwargs": {"finished_too": True},
    },
    # Emails whose retry was lost (broker down, worker killed): see seminars.outbox.
    "seminars-emails-requeue": {
        "task": "seminars.tasks.emails_requeue",
        "schedule": float(os.environ.get("SEMINARS_EMAILS_REQUEUE_SECONDS", "120")),
    },
    # Old sent emails are deleted once a day (SEMINARS_OUTBOX_KEEP_DAYS).
    "seminars-emails-prune": {
        "task": "seminars.tasks.emails_prune",
        "schedule": float(os.environ.get("SEMINARS_EMAILS_PRUNE_SECONDS", str(24 * 3600))),
    },
    # Events short of their minimum bookings: their trainers are warned once (seminars.minimum_warnings).
    "seminars-minimum-warnings": {
        "task": "seminars.tasks.minimum_warnings",
        "schedule": float(os.environ.get("SEMINARS_MINIMUM_WARNINGS_SECONDS", "300")),
    },
    # Reminders before events (seminars.reminders): recorded when due, sent by the email task.
    "seminars-reminders-queue": {
        "task": "seminars.tasks.reminders_queue",
        "schedule": float(os.environ.get("SEMINARS_REMINDERS_SECONDS", "60")),
    },
    # Requests for a place still pending when their event starts expire (seminars.services.approvals).
    "seminars-approval-requests-expire": {
        "task": "seminars.approval_tasks.requests_expire",
        "schedule": float(os.environ.get("SEMINARS_APPROVAL_EXPIRE_SECONDS", "60")),
    },
}

# --- Virtual meetings --------------------------------------------------------
VIRTUALMEETING = {
    # Explicit list of provider classes, imported lazily by the registry.
    "PROVIDERS": env_list(
        "VIRTUALMEETING_PROVIDERS",
        "virtualmeeting_zoom.provider.ZoomProvider,virtualmeeting_teams.provider.TeamsProvider",
    ),
}

# The site administration menu and the profile page gain the virtual meeting entries.
# (label, url name) pairs, or the dotted path of a function giving (label, url) pairs: the virtual meeting
# entries come from the providers listed above.
SEMINARS_ADMIN_MENU = ["virtualmeeting.conf.admin_menu"]
SEMINARS_PROFILE_SECTIONS = ["virtualmeeting/profile_connections.html"]

# Attendance from meeting data (seminars.selectors.attendance): the share of a session's scheduled
# minutes that counts as fully attended where a seminar sets none, and the minutes before the
# start and after the finish that still count.
SEMINARS_ATTENDED_PERCENT = int(os.environ.get("SEMINARS_ATTENDED_PERCENT", "75"))
SEMINARS_ATTENDANCE_GRACE_MINUTES = int(os.environ.get("SEMINARS_ATTENDANCE_GRACE_MINUTES", "10"))
# Sent (and skipped) emails are kept this many days in the outbox, then deleted; failed ones are kept.
SEMINARS_OUTBOX_KEEP_DAYS = int(os.environ.get("SEMINARS_OUTBOX_KEEP_DAYS", "90"))
# Trainers are warned this many hours before an event's start when its minimum bookings are not reached.
SEMINARS_MINIMUM_WARNING_HOURS = int(os.environ.get("SEMINARS_MINIMUM_WARNING_HOURS", "48"))
# Cancelling a booking or an event asks for a reason; with this set, the reason must be given.
SEMINARS_CANCELLATION_REASON_REQUIRED = os.environ.get("SEMINARS_CANCELLATION_REASON_REQUIRED", "") == "1"
# Reminders to booked learners and trainers, in hours before an event's first session, where a seminar
# sets none (e.g. SEMINARS_REMINDER_OFFSETS_HOURS="24,1"; empty: no reminders).
SEMINARS_REMINDER_OFFSETS_HOURS = [int(hours) for hours in env_list("SEMINARS_REMINDER_OFFSETS_HOURS", "24,1")]

# A provider's own settings (read through virtualmeeting.conf.vm_settings; defaults: the provider's
# settings_defaults) are set here only when the environment gives them, e.g. a simulator's hosts.
if os.environ.get("ZOOM_OAUTH_BASE_URL"):
    ZOOM_OAUTH_BASE_URL = os.environ["ZOOM_OAUTH_BASE_URL"].rstrip("/")
if os.environ.get("ZOOM_API_BASE_URL"):
    ZOOM_API_BASE_URL = os.environ["ZOOM_API_BASE_URL"].rstrip("/")
if os.environ.get("TEAMS_AUTH_BASE_URL"):
    TEAMS_AUTH_BASE_URL = os.environ["TEAMS_AUTH_BASE_URL"].rstrip("/")
if os.environ.get("GRAPH_API_BASE_URL"):
    GRAPH_API_BASE_URL = os.environ["GRAPH_API_BASE_URL"].rstrip("/")

# --- Content-Security-Policy (django-csp) -------------------------------------------
# Scripts and styles come from our static files only: no inline <script>, on*= handler or
# style= attribute in a page (lms/tests/test_csp.py scans the templates). Server text reaches
# JS through json_script, which the browser does not execute.
_ZOOM_OAUTH_ORIGIN = "{0.scheme}://{0.netloc}".format(
    urlsplit(os.environ.get("ZOOM_OAUTH_BASE_URL") or "https://zoom.us")
)
_TEAMS_AUTH_ORIGIN = "{0.scheme}://{0.netloc}".format(
    urlsplit(os.environ.get("TEAMS_AUTH_BASE_URL") or "https://login.microsoftonline.com")
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        # The connect popup reaches the provider's sign-in page by redirects from our
        # connect URL; a form that starts it must be allowed to end there.
        "form-action": [SELF, _ZOOM_OAUTH_ORIGIN, _TEAMS_AUTH_ORIGIN],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# With DEBUG off nothing starts on a missing or published key: not the web server, not a worker,
# not a management command (the test run makes keys of its own: lms/settings_test.py).
_KEY_PROBLEMS = (
    [] if DEBUG else production_key_problems(secret_key=SECRET_KEY, field_encryption_keys=FIELD_ENCRYPTION_KEYS)
)
if _KEY_PROBLEMS:
    raise ImproperlyConfigured(
        "With DEBUG off this site needs keys of its own:\n- "
        + "\n- ".join(_KEY_PROBLEMS)
        + "\nFor development, set DEBUG=1 instead."
    )
