"""Settings for the KSBB portal, read from the environment only.

Every knob is an environment variable (README.md lists them). Development defaults apply only while
DEBUG is on; with DEBUG off a missing secret or host list stops the start with a clear message.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

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
    "django.contrib.admin",
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
    "locations",
    "needs",
    "donations",
    "ksbb",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the signed-in user on every history row written during an admin request.
    "simple_history.middleware.HistoryRequestMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://ksbb")}

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
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

SILENCED_SYSTEM_CHECKS = [
    # Debian 12 ships GDAL 3.6; the portal never hands GDAL untrusted SRS or raster input.
    "gis.W001",
]
if not SECURE_HSTS_PRELOAD:
    # Preloading is a one-way commitment for the whole domain: an operator opts in with SECURE_HSTS_PRELOAD.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

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
}

# Abuse limits for the pledge form and API (count per s, m, h or d).
KSBB_PLEDGE_RATE_PER_ADDRESS = env.str("KSBB_PLEDGE_RATE_PER_ADDRESS", default="20/h")
KSBB_PLEDGE_RATE_PER_EMAIL = env.str("KSBB_PLEDGE_RATE_PER_EMAIL", default="10/h")
# How many reverse proxies in front of the portal append to X-Forwarded-For (0: use REMOTE_ADDR).
KSBB_TRUSTED_PROXY_COUNT = env.int("KSBB_TRUSTED_PROXY_COUNT", default=0)

# The map: the tile layer is a setting so tests (and offline demos) make no outside request.
KSBB_TILE_URL = env.str("KSBB_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
KSBB_TILE_ATTRIBUTION = env.str("KSBB_TILE_ATTRIBUTION", default="© OpenStreetMap contributors")
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
# How far (metres) a site may lie outside its kelurahan's boundary: the official polygons are simplified,
# so an RW point on the edge can fall a little outside its own kelurahan.
KSBB_SITE_BOUNDARY_TOLERANCE_M = env.int("KSBB_SITE_BOUNDARY_TOLERANCE_M", default=300)

# Staff triage: a pledge submitted or confirmed this many days ago with nothing done since is overdue.
KSBB_PLEDGE_OVERDUE_DAYS = env.int("KSBB_PLEDGE_OVERDUE_DAYS", default=3)
# The largest evidence photo staff may upload with a delivery (bytes).
KSBB_EVIDENCE_MAX_BYTES = env.int("KSBB_EVIDENCE_MAX_BYTES", default=5 * 1024 * 1024)
