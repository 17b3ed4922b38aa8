"""Settings for the KSBB portal, read from the environment only.

Every knob is an environment variable (README.md lists them). Development defaults apply only while
DEBUG is on; with DEBUG off a missing secret or host list stops the start with a clear message.
"""

import ipaddress
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from ksbb.content_policy import tile_sources

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
DEBUG = env.bool("DEBUG", default=False)


def _required(name: str, dev_default):
    """A setting production must set; DEBUG supplies a development value."""
    if name in env.ENVIRON:
        return env(name)
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"Set the environment variable {name} (required when DEBUG is off).")


SECRET_KEY = _required("SECRET_KEY", "dev-only-not-secret-ksbb-0000000000000000000000000000000000")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma-separated) when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "ksbb.apps.KsbbAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "simple_history",
    "csp",
    "axes",
    # Before the apps: their tasks.py modules register with its app when Django is ready.
    "procrastinate.contrib.django",
    "ledger",
    "locations",
    "needs",
    "alerts",
    "donations",
    "recipients",
    "transparency",
    "ksbb",
]

MIDDLEWARE = [
    # First and (before axes) last: request counts and latencies for /metrics (ksbb.metrics).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Every response, redirects included, carries X-Request-ID; log records carry it too.
    "ksbb.lib.request_id.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Early, so the policy header is written after everything below has rendered (nonces included).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the session, CSRF and message middlewares, so it sees every cookie they set: an
    # answer that is one visitor's own is never marked public (ksbb.lib.http_cache).
    "ksbb.lib.http_cache.PrivateResponsesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before any view reads a parameter: a NUL byte in one is a 400, never a database error.
    "ksbb.nul_bytes.refuse_nul_bytes",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the user is known: anonymous GETs of public pages may read from the replica (if any).
    "ksbb.replica_middleware.ReplicaReadsMiddleware",
    # Anonymous GETs of the public pages from the shared page cache; after the replica mark, so a
    # page's version is read where the page is (ksbb.lib.http_cache).
    "ksbb.lib.http_cache.PageCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the signed-in user on every history row written during an admin request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Latency by view; before axes, so it counts the lockout page's status as sent.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ksbb.urls"
WSGI_APPLICATION = "ksbb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# Database: PostGIS only. `make run`/`make test` point DATABASE_URL at the project-local cluster.
DATABASES = {"default": env.db("DATABASE_URL", default="postgis://postgres@127.0.0.1:5432/ksbb")}
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# An optional PostgreSQL streaming replica for public reads (ksbb.db_routers, docs/deploy.md).
_replica_url = env.str("REPLICA_DATABASE_URL", default="")
if _replica_url:
    DATABASES["replica"] = {
        **env.db_url_config(_replica_url),
        "ENGINE": DATABASES["default"]["ENGINE"],
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        # A test run never builds a database on a read-only server.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["ksbb.db_routers.PrimaryReplicaRouter"]
# Public reads go to the primary while the replica lags more than this (or is down); a visitor who
# has just written reads the primary for KSBB_READ_YOUR_WRITES_SECONDS (ksbb.replica_middleware).
KSBB_REPLICA_MAX_LAG_SECONDS = env.int("KSBB_REPLICA_MAX_LAG_SECONDS", default=5)
KSBB_READ_YOUR_WRITES_SECONDS = env.int("KSBB_READ_YOUR_WRITES_SECONDS", default=30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _cache(url: str) -> dict:
    """CACHE_URL's cache. redis:// is Django's own RedisCache, in ksbb.lib.failover_cache's wrapper
    that answers while Redis fails (rate limits from the database, the rest from local memory),
    with short socket timeouts so a hung Redis never holds a request: django-environ would
    otherwise pick django-redis whenever that happens to be installed, and files ?timeout= (or
    key_prefix, version) under a lower-case key Django ignores."""
    scheme = url.partition(":")[0]
    redis = scheme in ("redis", "rediss", "rediscache")
    config = env.cache_url_config(
        url, backend="ksbb.lib.failover_cache.FailoverRedisCache" if redis else None
    )
    for key in ("timeout", "key_prefix", "version"):
        if key in config:
            config[key.upper()] = config.pop(key)
    if redis:
        # redis-py's own option names are lower-case (django-environ upper-cases the URL's).
        given = {name.lower(): value for name, value in config.get("OPTIONS", {}).items()}
        config["OPTIONS"] = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, **given}
    return config


CACHES = {"default": _cache(env.str("CACHE_URL", default="locmemcache://ksbb"))}
# The public aggregates' last complete values (ksbb.lib.snapshots), kept in PostgreSQL too: shared
# by every server, and still there when Redis is down or after a restart. Table made by migrate.
CACHES["snapshots"] = {
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "ksbb_snapshots",
    # One row per aggregate and filters asked for; a key nobody reads for a week expires.
    "OPTIONS": {"MAX_ENTRIES": 20000},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Indonesian by default, English on request (the language form on every page).
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Numbers as the reader writes them: 23.505 in Indonesian, 23,505 in English (Django's locale formats).
# Ids and machine values in templates use |unlocalize; downloads and the API are never localized.
USE_THOUSAND_SEPARATOR = True
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Jakarta")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# E-mail: the console in development, SMTP (or any backend django-environ knows) from EMAIL_URL.
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://" if DEBUG else "")
if not EMAIL_URL:
    raise ImproperlyConfigured(
        "Set EMAIL_URL (e.g. smtp+tls://user:pass@host:587) when DEBUG is off."
    )
vars().update(env.email_url_config(EMAIL_URL))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="KSBB <noreply@ksbb.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# Links in mails are absolute: the portal's public address.
KSBB_BASE_URL = env.str("KSBB_BASE_URL", default="http://127.0.0.1:8000")

# Production hardening; `manage.py check --deploy` is clean with DEBUG off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers and Prometheus reach the app servers directly over plain HTTP (ksbb.health, ksbb.metrics).
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# Every form is rendered by the server with its token; no script reads the cookie.
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp), in development and tests too so they meet what production
# sends. Scripts come from the portal's own files, or inline with this request's nonce
# (request.csp_nonce: the leaflet_map tag and the admin's map widget take it). Styles keep
# 'unsafe-inline': Leaflet places every tile, marker and popup with inline style attributes, and
# the templates colour categories through style="--accent: …"; a style cannot run code.
# img-src gains the tile host of KSBB_TILE_URL in the map section below.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Admin brute-force protection (django-axes): a username is locked for one client address after
# KSBB_LOGIN_FAILURE_LIMIT wrong passwords, for KSBB_LOGIN_COOLOFF_MINUTES; staff unlock it early
# by deleting its row under "Axes: access attempts" in the admin.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("KSBB_LOGIN_FAILURE_LIMIT", default=5)
_LOGIN_COOLOFF_MINUTES = env.int("KSBB_LOGIN_COOLOFF_MINUTES", default=60)
if AXES_FAILURE_LIMIT < 1 or _LOGIN_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured(
        "KSBB_LOGIN_FAILURE_LIMIT and KSBB_LOGIN_COOLOFF_MINUTES must be 1 or more."
    )
AXES_COOLOFF_TIME = _LOGIN_COOLOFF_MINUTES / 60  # axes reads a float as hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no "AXES: BEGIN version …" banner on every manage.py command
# The same address the pledge rate limits use (KSBB_TRUSTED_PROXY_COUNT decides whom to believe).
AXES_CLIENT_IP_CALLABLE = "donations.ratelimit.client_address"
AXES_LOCKOUT_CALLABLE = "ksbb.lockout.locked_out"

SILENCED_SYSTEM_CHECKS = [
    # Debian 12 ships GDAL 3.6; the portal never hands GDAL untrusted SRS or raster input.
    "gis.W001",
]
if not SECURE_HSTS_PRELOAD:
    # Preloading is a one-way commitment for the whole domain: an operator opts in with SECURE_HSTS_PRELOAD.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# Logs go to stderr, as plain text (LOG_FORMAT=text, the default) or one JSON object per line
# (LOG_FORMAT=json: ksbb.lib.jsonlog), each with the request id of the request being served.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "log_request_id.filters.RequestIDFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "ksbb.lib.jsonlog.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # procrastinate announces its periodic tasks at every start of every command.
        "procrastinate.periodic": {"level": "WARNING"},
        "procrastinate.blueprints": {"level": "WARNING"},
    },
}
# Request ids (ksbb.lib.request_id): every response sends its id in X-Request-ID. An incoming id is
# kept only from the header named here, which only a proxy that sets it itself may be trusted
# with (nginx: proxy_set_header X-Request-ID $request_id); otherwise each request gets a new one.
_request_id_header = env.str("LOG_REQUEST_ID_HEADER", default="")
LOG_REQUEST_ID_HEADER = (
    _request_id_header
    if not _request_id_header or _request_id_header.startswith("HTTP_")
    else "HTTP_" + _request_id_header.upper().replace("-", "_")
) or None
GENERATE_REQUEST_ID_IF_NOT_IN_HEADER = True
REQUEST_ID_RESPONSE_HEADER = "X-Request-ID"
# Not its per-request log line (it would log paths with pledge tokens): gunicorn's access log has
# the request id instead (ksbb/gunicorn.conf.py).
LOG_REQUESTS = False

# Health and metrics (ksbb.health, ksbb.metrics; docs/deploy.md). /health/ready/ fails when no
# background worker sent a heartbeat for this long, or when a mail still to be sent is this old.
KSBB_WORKER_HEARTBEAT_MAX_SECONDS = env.int("KSBB_WORKER_HEARTBEAT_MAX_SECONDS", default=60)
KSBB_OUTBOX_MAX_AGE_SECONDS = env.int("KSBB_OUTBOX_MAX_AGE_SECONDS", default=600)
# /metrics answers these addresses or networks (the client's address as KSBB_TRUSTED_PROXY_COUNT
# reads it), and any request with `Authorization: Bearer <KSBB_METRICS_TOKEN>` (when set).
KSBB_METRICS_ALLOWED_ADDRESSES = env.list(
    "KSBB_METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1", "::1"]
)
KSBB_METRICS_TOKEN = env.str("KSBB_METRICS_TOKEN", default="")
try:
    [ipaddress.ip_network(entry, strict=False) for entry in KSBB_METRICS_ALLOWED_ADDRESSES]
except ValueError as _error:
    raise ImproperlyConfigured(f"KSBB_METRICS_ALLOWED_ADDRESSES: {_error}") from None

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_RATES": {"pledges": env.str("KSBB_API_PLEDGE_THROTTLE", default="30/hour")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KSBB portal API",
    "DESCRIPTION": "Public, read-only data on aid needs in Jakarta. No personal data.",
    "VERSION": "1",
    # The docs page's assets come from the sidecar package, served from our own static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"PledgeStatusEnum": "donations.models.PledgeStatus"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ksbb.lib.api_schema.document_query_parameters",
    ],
}

# Abuse limits for the pledge form and API (count per s, m, h or d).
KSBB_PLEDGE_RATE_PER_ADDRESS = env.str("KSBB_PLEDGE_RATE_PER_ADDRESS", default="20/h")
KSBB_PLEDGE_RATE_PER_EMAIL = env.str("KSBB_PLEDGE_RATE_PER_EMAIL", default="10/h")
# A returning donor's own page (donations.donor_links): how long its mailed link works, and the
# limits on asking for one (per client address, and per address asked for: no one is mail-bombed).
KSBB_DONOR_LINK_MINUTES = env.int("KSBB_DONOR_LINK_MINUTES", default=60)
KSBB_DONOR_LINK_RATE_PER_ADDRESS = env.str("KSBB_DONOR_LINK_RATE_PER_ADDRESS", default="10/h")
KSBB_DONOR_LINK_RATE_PER_EMAIL = env.str("KSBB_DONOR_LINK_RATE_PER_EMAIL", default="3/h")
# The alert subscription form's limits (alerts.views): per client address, and per address asked for.
KSBB_ALERTS_RATE_PER_ADDRESS = env.str("KSBB_ALERTS_RATE_PER_ADDRESS", default="10/h")
KSBB_ALERTS_RATE_PER_EMAIL = env.str("KSBB_ALERTS_RATE_PER_EMAIL", default="3/h")
# The contact persons' private links (recipients; docs/recipients.md): how long one works, and the
# limits per client address on opening them (every request, and tokens that are no link at all).
KSBB_CONTACT_LINK_DAYS = env.int("KSBB_CONTACT_LINK_DAYS", default=30)
# Days before an open need awaits reconfirmation that its contact person is reminded (recipients.notices).
KSBB_RECONFIRM_REMINDER_DAYS = env.int("KSBB_RECONFIRM_REMINDER_DAYS", default=3)
KSBB_CONTACT_LINK_RATE_PER_ADDRESS = env.str("KSBB_CONTACT_LINK_RATE_PER_ADDRESS", default="60/m")
KSBB_CONTACT_LINK_MISSES_PER_ADDRESS = env.str(
    "KSBB_CONTACT_LINK_MISSES_PER_ADDRESS", default="20/h"
)
# WhatsApp and SMS to contact persons (recipients.messaging): the console in development, an HTTP
# gateway in production (e-mail goes through EMAIL_URL).
KSBB_MESSAGING_BACKEND = env.str(
    "KSBB_MESSAGING_BACKEND",
    default="recipients.messaging.ConsoleBackend"
    if DEBUG
    else "recipients.messaging.GatewayBackend",
)
KSBB_MESSAGING_GATEWAY_URL = env.str("KSBB_MESSAGING_GATEWAY_URL", default="")
KSBB_MESSAGING_GATEWAY_TOKEN = env.str("KSBB_MESSAGING_GATEWAY_TOKEN", default="")
KSBB_MESSAGING_GATEWAY_TIMEOUT = env.float("KSBB_MESSAGING_GATEWAY_TIMEOUT", default=10)
# How many reverse proxies in front of the portal append to X-Forwarded-For (0: use REMOTE_ADDR).
KSBB_TRUSTED_PROXY_COUNT = env.int("KSBB_TRUSTED_PROXY_COUNT", default=0)
# How long the map layer, the transparency figures and the home page's counts may lag the database
# (ksbb.lib.snapshots); 0 computes them on every request.
KSBB_PUBLIC_SNAPSHOT_SECONDS = env.int("KSBB_PUBLIC_SNAPSHOT_SECONDS", default=10)
# How long the home page, the map and the transparency page may be served to anonymous visitors from
# a copy (the shared page cache, and browsers, CDNs and nginx through Cache-Control); 0 keeps none
# (ksbb.lib.http_cache, docs/deploy.md). As long as what they show is checked (the map's markers and
# the public figures, every 3 × KSBB_PUBLIC_SNAPSHOT_SECONDS): a shorter time makes the pages again
# with the same figures (at 10 s, the map's hundred addresses were a fifth of the app servers' time).
KSBB_PUBLIC_PAGE_SECONDS = env.int("KSBB_PUBLIC_PAGE_SECONDS", default=30)
# The background worker (procrastinate; ksbb.lib.jobs). True runs a job's function after the commit
# in the same process instead (the test suite).
KSBB_JOBS_EAGER = env.bool("KSBB_JOBS_EAGER", default=False)
PROCRASTINATE_WORKER_DEFAULTS = {
    # Jobs are short; a mail server that hangs holds one slot per mail until EMAIL_TIMEOUT.
    "concurrency": env.int("KSBB_WORKER_CONCURRENCY", default=4),
    # A job that succeeded leaves nothing to look at; failed ones stay (ksbb.tasks purges them).
    "delete_jobs": "successful",
}

# The map: the tile layer is a setting so tests (and offline demos) make no outside request.
KSBB_TILE_URL = env.str("KSBB_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
KSBB_TILE_ATTRIBUTION = env.str("KSBB_TILE_ATTRIBUTION", default="© OpenStreetMap contributors")
# Above this many needs, the map page carries the needs counted per kelurahan and draws them first;
# the layer of markers (14 bytes a need, gzipped) comes when the donor zooms in (needs.summary).
KSBB_MAP_SUMMARY_ABOVE = env.int("KSBB_MAP_SUMMARY_ABOVE", default=2000)
CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] += tile_sources(KSBB_TILE_URL)
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (-6.2, 106.83),
    "DEFAULT_ZOOM": 11,
    "MIN_ZOOM": 9,
    "MAX_ZOOM": 18,
    "TILES": [(_("Map"), KSBB_TILE_URL, {"attribution": KSBB_TILE_ATTRIBUTION})]
    if KSBB_TILE_URL
    else [],
    "ATTRIBUTION_PREFIX": "Leaflet",
    "RESET_VIEW": False,
}

# Reference data, read from where the operator keeps it (never copied into the tree).
KSBB_REGION_DATA = env.path(
    "KSBB_REGION_DATA", default=BASE_DIR / ".data" / "idn-area-data" / "data"
)
KSBB_BOUNDARIES = env.str("KSBB_BOUNDARIES", default="")
KSBB_RW_POINTS = env.str("KSBB_RW_POINTS", default="")
# RW boundary files load_demo imports (`:`-separated; rw_2012.geojson), and their attribution.
KSBB_RW_BOUNDARIES = env.str("KSBB_RW_BOUNDARIES", default="")
KSBB_RW_BOUNDARIES_SOURCE = env.str(
    "KSBB_RW_BOUNDARIES_SOURCE",
    default="BPBD DKI Jakarta 2012, © OpenStreetMap contributors (ODbL 1.0)",
)
# How far (metres) a site may lie outside its kelurahan's boundary: the official polygons are simplified,
# so an RW point on the edge can fall a little outside its own kelurahan.
KSBB_SITE_BOUNDARY_TOLERANCE_M = env.int("KSBB_SITE_BOUNDARY_TOLERANCE_M", default=300)

# Staff triage: a pledge submitted or confirmed this many days ago with nothing done since is overdue.
KSBB_PLEDGE_OVERDUE_DAYS = env.int("KSBB_PLEDGE_OVERDUE_DAYS", default=3)
# The largest evidence photo staff may upload with a delivery (bytes).
KSBB_EVIDENCE_MAX_BYTES = env.int("KSBB_EVIDENCE_MAX_BYTES", default=5 * 1024 * 1024)
# Evidence photos are stored re-encoded from their pixels (no EXIF, GPS or camera serial: ksbb.lib.photos),
# at most this many pixels on their longest side.
KSBB_EVIDENCE_MAX_SIDE = env.int("KSBB_EVIDENCE_MAX_SIDE", default=1600)
# An organisation's statement letter for its vetting (donations.vetting): the largest file (bytes), the
# most pages of a PDF, and the longest side (pixels) a photo of it is kept at.
KSBB_STATEMENT_MAX_BYTES = env.int("KSBB_STATEMENT_MAX_BYTES", default=5 * 1024 * 1024)
KSBB_STATEMENT_MAX_PAGES = env.int("KSBB_STATEMENT_MAX_PAGES", default=10)
KSBB_STATEMENT_MAX_SIDE = env.int("KSBB_STATEMENT_MAX_SIDE", default=2400)
# Days after its delivery date that a delivery awaits its recipients' word; unconfirmed after.
KSBB_RECEIPT_DAYS = env.int("KSBB_RECEIPT_DAYS", default=14)
# The public ledger (docs/ledger.md). Off only to measure what it costs (make bench).
KSBB_LEDGER = env.bool("KSBB_LEDGER", default=True)
# Uploads that are not public (evidence photos) have no address of their own: a view checks the staff
# member's area, then the bytes come from Django ("django"), or from the web server through
# X-Accel-Redirect to KSBB_PRIVATE_MEDIA_PREFIX ("nginx") or X-Sendfile ("apache"). docs/deploy.md.
KSBB_PRIVATE_MEDIA_SERVER = env.str("KSBB_PRIVATE_MEDIA_SERVER", default="django")
if KSBB_PRIVATE_MEDIA_SERVER not in ("django", "nginx", "apache"):
    raise ImproperlyConfigured(
        "KSBB_PRIVATE_MEDIA_SERVER must be django, nginx or apache, not "
        f"{KSBB_PRIVATE_MEDIA_SERVER!r}."
    )
KSBB_PRIVATE_MEDIA_PREFIX = env.str("KSBB_PRIVATE_MEDIA_PREFIX", default="/_private_media/")
