"""Rapport settings: one module, read from the environment (12-factor).

Every variable is documented in README.md ("Configuration"). Defaults give a working embedded
setup (SQLite and a filesystem Celery broker under ``var/``); production sets DATABASE_URL,
REDIS_URL, SECRET_KEY and friends.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("RAPPORT_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
# A local .env (created by `make run` from .env.example) is read first; real environment wins.
if env.bool("RAPPORT_DOTENV", default=True):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (any long random string) "
            "or set DEBUG=1 for local development."
        )
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
    "allauth.usersessions",
    "simple_history",
    "core",
    "accounts",
    "contacts",
    "pulses",
    "changemaps",
    "actions",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Idle and absolute session timeouts, then "set up two-factor first" for the roles that must.
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.MfaRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so that a locked-out login attempt never reaches the view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "django.template.context_processors.csp",
                "core.context_processors.rapport",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'rapport.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default keeps its file under var/, which a fresh clone does not have yet.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # A file (not :memory:) for tests too, so that real worker processes see the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        # WAL and a busy timeout let web, worker and beat share the file without "database locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # django-allauth: email + password for local accounts, and the OIDC provider below.
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Failed-login lockout: five failures for one email from one address lock that pair out. Axes is
# the one lockout policy (allauth's own "login_failed" limit is switched off below).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "login"
# allauth passes the address as `email`; lower-cased so "Maya@…" and "maya@…" share a counter.
AXES_USERNAME_CALLABLE = "accounts.auth.axes_username"
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None
AXES_VERBOSE = False

# django-allauth. Users are created by administrators (roles come from them), so nobody signs
# up; local accounts log in with email and password, optionally with TOTP.
ACCOUNT_ADAPTER = "accounts.auth.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.auth.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
# Sessions last SESSION_COOKIE_AGE; the idle and absolute timeouts below end them sooner.
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_LOGOUT_REDIRECT_URL = "login"
ACCOUNT_RATE_LIMITS = {"login_failed": False}
ACCOUNT_REAUTHENTICATION_TIMEOUT = 5 * 60
# allauth's rate limits count per client address: trust as many proxies as axes does.
ALLAUTH_TRUSTED_PROXY_COUNT = AXES_IPWARE_PROXY_COUNT or 0
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Rapport")
# Roles that must set up TOTP before using the app (accounts.middleware.MfaRequiredMiddleware),
# e.g. "admin,executive". Applies to password logins; SSO users get their second factor from
# the identity provider.
MFA_REQUIRED_ROLES = env.list("MFA_REQUIRED_ROLES", default=[])
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # our adapter connects by verified email itself
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
USERSESSIONS_TRACK_ACTIVITY = False

# OpenID Connect single sign-on, from the environment; without OIDC_SERVER_URL there is no SSO
# button. The provider's discovery document lives at <OIDC_SERVER_URL>/.well-known/openid-configuration.
OIDC_SERVER_URL = env.str("OIDC_SERVER_URL", default="")
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": []}}
if OIDC_SERVER_URL:
    SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"].append(
        {
            "provider_id": env.str("OIDC_PROVIDER_ID", default="sso"),
            "name": env.str("OIDC_NAME", default="Single sign-on"),
            "client_id": env.str("OIDC_CLIENT_ID"),
            "secret": env.str("OIDC_CLIENT_SECRET", default=""),
            "settings": {
                "server_url": OIDC_SERVER_URL,
                "token_auth_method": env.str(
                    "OIDC_TOKEN_AUTH_METHOD", default="client_secret_post"
                ),
                "oauth_pkce_enabled": True,
            },
        }
    )

# Sessions: a new key at every login (Django), and signed out after SESSION_IDLE_TIMEOUT seconds
# without a request or SESSION_ABSOLUTE_TIMEOUT seconds after logging in, whichever is first.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 60 * 60)

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
# Languages a contact may prefer; pulses are worded in these where a translation exists.
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("it", "Italiano"),
    ("nl", "Nederlands"),
    ("sv", "Svenska"),
]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed files in production (after collectstatic); plain files in DEBUG and tests.
_static_manifest = env.bool("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _static_manifest
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"
WHITENOISE_USE_FINDERS = True  # tests and DEBUG serve straight from static/ without collectstatic

# --- Email --------------------------------------------------------------------------------------
_email_default = "consolemail://" if DEBUG else "smtp://localhost:25"
globals().update(env.email_url("EMAIL_URL", default=_email_default))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Rapport <rapport@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 20

# --- Cache --------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        # A miss, not a 500, while Redis is away (core/cache.py).
        "default": {"BACKEND": "core.cache.ResilientRedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -------------------------------------------------------------------------------------
# Without Redis, kombu's filesystem transport is a real broker that needs no server: web, worker
# and beat exchange messages through folders under var/ (tasks are never run eagerly).
CELERY_BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "celery-broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "out"),
        "data_folder_out": str(CELERY_BROKER_DIR / "out"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# Acknowledge after the task ran, so a worker that dies mid-task hands the message to another;
# every task is written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 9 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# django-celery-beat's database scheduler, riding out database outages (config/beat.py).
CELERY_BEAT_SCHEDULER = "config.beat:ResilientDatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- REST framework -----------------------------------------------------------------------------
# The API lives under /api/v1/ (each app's api.py, shared pieces in core/api/). Sessions serve the
# web app (with CSRF); personal API tokens (accounts.ApiToken) serve integrations.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "core.api.filters.FilterBackend",
        "core.api.filters.Ordering",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttles.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_token": env.str("API_THROTTLE_RATE", default="1200/hour")},
    "EXCEPTION_HANDLER": "core.api.exceptions.problem_details_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rapport API",
    "DESCRIPTION": (
        "Accounts, contacts, pulses and responses of the accounts you may see. Authenticate "
        "with a personal API token (`Authorization: Bearer rap_…`, created in your profile) or "
        "a browser session. Errors are RFC 9457 problem details. Lists are paginated and take "
        "`updated_since` for incremental sync; GETs answer `If-None-Match` with 304."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "COMPONENT_NO_READ_ONLY_REQUIRED": False,
    "ENFORCE_NON_BLANK_FIELDS": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ChangeMapCategoryEnum": "changemaps.categories.Category",
        "AcknowledgementStatusEnum": "actions.models.Acknowledgement.Status",
        "ActionStatusEnum": "actions.models.Action.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_problem_responses",
    ],
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False, "displayOperationId": False},
}

# --- Forms --------------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security -----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline scripts anywhere: every script is a static file. Plotly sets inline styles.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Rate limits (survey links) count per client address; behind a proxy, name the header that
# carries the real one, e.g. HTTP_X_FORWARDED_FOR (django-ratelimit takes its first address).
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="") or None
# Survey links are 256-bit secrets; the rate limit is a second line. While the cache (Redis) is
# away, contacts can still answer rather than meet a 429.
RATELIMIT_FAIL_OPEN = True

# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Personal survey links carry their token in the path: never let one reach a log.
    "filters": {"redact_link_tokens": {"()": "core.logging.RedactLinkTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_link_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # PDF rendering and chart export narrate every step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "kaleido": {"level": "WARNING"},
        "choreographer": {"level": "WARNING"},
        # runserver's request lines: through our handler, so tokens are redacted there too.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- Rapport ------------------------------------------------------------------------------------
RAPPORT_SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
RAPPORT_DEMO_PASSWORD = "rapport-demo"  # noqa: S105 - the documented demo login, seed_demo only

# --- Reports ------------------------------------------------------------------------------------
# Generated PDFs live outside MEDIA_ROOT: they only leave through the audited download view.
RAPPORT_REPORTS_DIR = env.str("REPORTS_DIR", default=str(VAR_DIR / "reports"))
# The browser kaleido drives to draw PDF charts (empty: Debian's chromium on PATH, if any).
RAPPORT_CHROMIUM = env.str("CHROMIUM", default="")
# A Celery queue for report generation (empty: the default queue). Run a worker with
# `-Q reports` to keep heavy PDFs away from email sending.
RAPPORT_REPORTS_QUEUE = env.str("REPORTS_QUEUE", default="")
# How long a quote-approval link works; the account team can send a fresh one.
RAPPORT_QUOTE_LINK_DAYS = env.int("QUOTE_LINK_DAYS", default=14)

# --- Privacy ------------------------------------------------------------------------------------
# Days a response's free text is kept (then cleared by a daily task; scores stay). 0: for ever.
RAPPORT_RESPONSE_RETENTION_DAYS = env.int("RESPONSE_RETENTION_DAYS", default=0)
if RAPPORT_RESPONSE_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("RESPONSE_RETENTION_DAYS is a number of days: 0 (keep) or more.")

# The beat schedule lives here, in code; django-celery-beat's database scheduler syncs it so
# operators can pause entries from the admin without a deploy. Later apps add their entries.
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "core.tasks.record_worker_heartbeat", "schedule": 60.0},
    # Change maps: recompute when responses marked them dirty and went quiet, or once a day.
    "changemaps-recompute-sweep": {
        "task": "changemaps.tasks.recompute_changemaps",
        "schedule": 5 * 60.0,
        "kwargs": {"sweep": True},
    },
    # Opens due waves, queues invitations and reminders, closes waves: deadlines are in the DB.
    "pulse-schedule": {"task": "pulses.tasks.run_pulse_schedule", "schedule": 60.0},
    # Acknowledgements: receipts the broker missed, 24-hour reminders, 48-hour escalations.
    "acknowledgements-sweep": {"task": "actions.tasks.sweep_acknowledgements", "schedule": 60.0},
    # Report jobs whose task message was lost or whose worker died are queued again.
    "reports-sweep": {"task": "reports.tasks.sweep_report_jobs", "schedule": 5 * 60.0},
    # Webhook deliveries whose task message was lost (broker restart) are queued again.
    "webhooks-requeue": {"task": "core.tasks.requeue_webhook_deliveries", "schedule": 5 * 60.0},
    # Privacy: responses' free text older than RESPONSE_RETENTION_DAYS is cleared, once a day.
    "response-retention": {"task": "pulses.tasks.apply_response_retention", "schedule": 86400.0},
}

# --- Webhooks -----------------------------------------------------------------------------------
# Outbound event deliveries (core.services.webhooks): signed POSTs to the URLs administrators
# register, retried with exponential back-off; `replay` in the UI starts a new series.
RAPPORT_WEBHOOKS = {
    "max_attempts": env.int("WEBHOOK_MAX_ATTEMPTS", default=8),  # per series (first try + retries)
    "backoff_seconds": env.int("WEBHOOK_BACKOFF_SECONDS", default=30),  # 30 s, 1, 2, 4 min, …
    "backoff_max_seconds": env.int("WEBHOOK_BACKOFF_MAX_SECONDS", default=60 * 60),
    "timeout_seconds": env.int("WEBHOOK_TIMEOUT_SECONDS", default=10),
    # A pending delivery whose next try is this far overdue lost its task message: queue again.
    "requeue_after_seconds": 15 * 60,
}

# --- Change maps --------------------------------------------------------------------------------
# Every threshold of the change-map rules (CHANGE_MAP_RULES.md), in one place. changemaps.rules
# reads them through `Thresholds.from_settings()`; dashboards, PDFs, API and exports use its output.
CHANGE_MAP = {
    # Categories (the rules table; first match wins).
    "silent_streak": 2,  # unanswered invited waves in a row that make someone silent
    "falling_delta": -2,  # last - prev at or below this: falling
    "rising_delta": 2,  # last - prev at or above this: rising
    "key_person_last_max": 6,  # a key person's last score at or below this: ticking time bomb
    "angel_min": 9,  # the last three scores all at or above this: enduring angel
    # Who counts as a key person.
    "key_roles": ["decision_maker", "budget_holder", "champion"],
    "key_influence_min": 4,  # influence (1–5) at or above this
    # Aggregates.
    "unknown_influence": 3,  # the weight of someone whose influence is not known
    "pocket_mean_max": 6,  # negative pocket: mean last score at or below this
    "support_mean_min": 9,  # zone of support: mean last score at or above this
    "group_min_answered": 2,  # people with a score a pocket or zone needs
    "list_max": 100,  # call-list, pocket and zone entries kept per group snapshot
    # Recomputing (changemaps.tasks).
    "debounce_seconds": 60,  # a burst of responses: one recompute, this long after the first
    "max_age_hours": 24,  # recompute at least this often, even when nothing marked them dirty
    "claim_timeout_seconds": 15 * 60,  # a recompute claimed longer ago than this was lost
}
