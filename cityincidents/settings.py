"""
Settings for cityincidents, all read from environment variables.

Django's own knobs keep their usual names with a ``DJANGO_`` prefix; the application's
knobs are prefixed ``INCIDENTS_``. Secrets have no production default: with ``DEBUG``
off, ``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS`` must be set.

When ``DATABASE_URL`` is not set, the project-local PostGIS cluster started by
``scripts/pg-local.sh`` (a Unix socket under ``.pg/run``) is used.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value in (None, ""):
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


# --- Core -------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string in production, "
            "or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS is not set. List the host names this service answers to, "
        "comma-separated (e.g. incidents.example.org)."
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "incidents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Bodies over INCIDENTS_MAX_REQUEST_BYTES answer 413 before anything parses them.
    "incidents.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cityincidents.urls"

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

WSGI_APPLICATION = "cityincidents.wsgi.application"

# --- Database ---------------------------------------------------------------------------

_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60))}
    # dj-database-url maps postgis:// to the PostGIS backend; refuse anything that is not.
    if DATABASES["default"]["ENGINE"] != "django.contrib.gis.db.backends.postgis":
        raise ImproperlyConfigured(
            "DATABASE_URL must use the postgis:// scheme (cityincidents needs PostGIS), "
            f"got engine {DATABASES['default']['ENGINE']!r}."
        )
else:
    # The project-local cluster of scripts/pg-local.sh: socket only, trust auth.
    DATABASES = {
        "default": {
            "ENGINE": "django.contrib.gis.db.backends.postgis",
            "NAME": env_str("INCIDENTS_PG_DB", "cityincidents"),
            "USER": "cityincidents",
            "HOST": str(BASE_DIR / ".pg" / "run"),
            "PORT": env_str("INCIDENTS_PG_PORT", "5432"),
            "CONN_MAX_AGE": env_int("DJANGO_CONN_MAX_AGE", 60),
        }
    }
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Debian 12 ships GDAL 3.6, which cannot block file/network access from crafted spatial
# references. We never open datasets or user-given SRS through GDAL: importers parse
# GeoJSON/XML themselves and geometry work happens in GEOS and PostGIS.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# --- Auth -------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- Internationalisation ---------------------------------------------------------------

LANGUAGE_CODE = env_str("DJANGO_LANGUAGE_CODE", "fr")
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "incidents" / "locale"]
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
_STATIC_MANIFEST = env_bool("DJANGO_STATIC_MANIFEST", not DEBUG)
# Without the manifest (development, tests), WhiteNoise serves straight from the apps'
# static folders, so no `collectstatic` is needed.
WHITENOISE_USE_FINDERS = not _STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = not _STATIC_MANIFEST
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The manifest storage needs `collectstatic` first: production only.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Security (production) --------------------------------------------------------------

SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
if env_bool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Logging ----------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "WARNING")},
    "loggers": {"incidents": {"level": env_str("INCIDENTS_LOG_LEVEL", "INFO"), "propagate": True}},
}

# --- Django REST framework ----------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # DRF's JSON parser, with a 400 (not a 500) for JSON nested too deep or not UTF-8.
    "DEFAULT_PARSER_CLASSES": [
        "incidents.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Anonymous reads are throttled at INCIDENTS_API_ANON_RATE (429 with Retry-After).
    "DEFAULT_THROTTLE_CLASSES": ["incidents.api.throttling.AnonymousThrottle"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "cityincidents API",
    "DESCRIPTION": "Open data on incidents reported in public space, street segments and roadworks.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # GeoJSON bodies are built in SQL; their schemas come from the layer definitions.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "incidents.api.schema.add_geojson_components",
    ],
}

# Throttle counts (and other short-lived values) live here: set a Redis URL in production
# so that every worker shares them; the default is per process.
_cache_url = env_str("DJANGO_CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_URLS_REGEX = r"^/(api|ogc|open311)/.*$"

# --- Admin map widget (django-leaflet, served locally) -------------------------------------

INCIDENTS_TILE_URL = env_str("INCIDENTS_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
# "none": no basemap at all (offline sites, tests, benchmarks); the map draws our own streets.
if INCIDENTS_TILE_URL.lower() == "none":
    INCIDENTS_TILE_URL = ""
INCIDENTS_TILE_ATTRIBUTION = env_str(
    "INCIDENTS_TILE_ATTRIBUTION",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)
INCIDENTS_MAP_CENTER = (
    env_float("INCIDENTS_MAP_CENTER_LAT", 43.6045),
    env_float("INCIDENTS_MAP_CENTER_LON", 1.4440),
)
INCIDENTS_MAP_ZOOM = env_int("INCIDENTS_MAP_ZOOM", 13)

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": INCIDENTS_MAP_CENTER,
    "DEFAULT_ZOOM": INCIDENTS_MAP_ZOOM,
    "TILES": [("OpenStreetMap", INCIDENTS_TILE_URL, {"attribution": INCIDENTS_TILE_ATTRIBUTION, "maxZoom": 19})],
    "RESET_VIEW": False,
}

# --- Celery (scale-out path only) ---------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis broker: a batch taken by a worker that then vanished whole (its host lost, the whole
# worker killed) goes back to the queue after this many seconds. Keep it above the longest
# batch: a batch still running when it expires is run a second time (harmless, but wasted).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
# A prefix for every Redis key of the broker (queues, unacknowledged batches and their lock),
# so that deployments or test runs sharing one Redis database never see each other's.
if env_str("CELERY_BROKER_KEYPREFIX"):
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env_str("CELERY_BROKER_KEYPREFIX")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE

# --- cityincidents knobs --------------------------------------------------------------------

# Buffer around a works zone's published geometry that forms its impact area, in metres.
INCIDENTS_WORKS_IMPACT_BUFFER_M = env_float("INCIDENTS_WORKS_IMPACT_BUFFER_M", 25.0)
# A post links to the nearest street segment no farther than this, in metres.
INCIDENTS_SEGMENT_MAX_DISTANCE_M = env_float("INCIDENTS_SEGMENT_MAX_DISTANCE_M", 30.0)
# A post links to works zones whose impact area lies within this distance, in metres.
INCIDENTS_WORKS_RADIUS_M = env_float("INCIDENTS_WORKS_RADIUS_M", 100.0)
# A works zone still counts as active this long after its end (and before its start), in hours.
INCIDENTS_WORKS_GRACE_HOURS = env_float("INCIDENTS_WORKS_GRACE_HOURS", 24.0)
# When the service area is derived from the loaded streets, they are buffered by this, in metres.
INCIDENTS_SERVICE_AREA_BUFFER_M = env_float("INCIDENTS_SERVICE_AREA_BUFFER_M", 200.0)

# --- Locate and classify --------------------------------------------------------------------
# Landmarks (JSON: {"landmarks": [{"name", "lon", "lat"}]}) the locator uses as evidence between
# homonymous streets; empty to use none.
INCIDENTS_LANDMARKS_FILE = env_str(
    "INCIDENTS_LANDMARKS_FILE", str(BASE_DIR / "incidents" / "locate" / "data" / "landmarks_toulouse.json")
)
# A city's own lexicon (TOML, same layout as incidents/classify/lexicon.toml), merged over the default.
INCIDENTS_LEXICON_FILE = env_str("INCIDENTS_LEXICON_FILE", "")

# --- Open-data API ------------------------------------------------------------------------

# Largest request body accepted, in bytes (413 above it, before parsing; 0: no limit). The
# default holds a full POST /api/posts/ batch of INCIDENTS_API_MAX_BATCH plain posts.
INCIDENTS_MAX_REQUEST_BYTES = env_int("INCIDENTS_MAX_REQUEST_BYTES", 5 * 1024 * 1024)
# Django's own cap on form fields read into memory follows the same limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = INCIDENTS_MAX_REQUEST_BYTES or None

# Requests per period an anonymous caller may make (DRF rate syntax, e.g. 600/min); "none": unlimited.
INCIDENTS_API_ANON_RATE = env_str("INCIDENTS_API_ANON_RATE", "600/min")
if INCIDENTS_API_ANON_RATE.lower() in {"none", "off", "0"}:
    INCIDENTS_API_ANON_RATE = None
# Features per page of the REST API when `limit` is not given, and the largest `limit` accepted.
INCIDENTS_API_PAGE_SIZE = env_int("INCIDENTS_API_PAGE_SIZE", 100)
INCIDENTS_API_MAX_PAGE_SIZE = env_int("INCIDENTS_API_MAX_PAGE_SIZE", 1000)
# The same for the OGC API – Features `limit` (the OGC default page is 10).
INCIDENTS_OGC_PAGE_SIZE = env_int("INCIDENTS_OGC_PAGE_SIZE", 10)
INCIDENTS_OGC_MAX_PAGE_SIZE = env_int("INCIDENTS_OGC_MAX_PAGE_SIZE", 10_000)
# EPSG codes the OGC API also offers as `crs`/`bbox-crs`/`filter-crs`, besides CRS84, 4326, 2154 and 3857.
INCIDENTS_OGC_EXTRA_CRS = env_list("INCIDENTS_OGC_EXTRA_CRS")
# The clusters endpoint keeps incidents in memory; each process checks for changed
# incidents at most this often, in seconds (see incidents/publish/clusters.py).
INCIDENTS_CLUSTER_CHECK_SECONDS = env_float("INCIDENTS_CLUSTER_CHECK_SECONDS", 1.0)
# Change notes are replayed with this overlap, in seconds, so that a transaction which
# commits late is never missed.
INCIDENTS_CLUSTER_OVERLAP_SECONDS = env_float("INCIDENTS_CLUSTER_OVERLAP_SECONDS", 300.0)
# Change notes older than this are deleted, in hours.
INCIDENTS_CHANGES_KEEP_HOURS = env_float("INCIDENTS_CHANGES_KEEP_HOURS", 24.0)

# --- Map and triage (incidents/web) ---------------------------------------------------------

# Dotted path of the class that delivers operators' replies to the platform the posts came
# from (incidents/services/replies.py); the default only records them on the incident.
INCIDENTS_REPLY_BACKEND = env_str("INCIDENTS_REPLY_BACKEND", "incidents.services.replies.RecordOnlyBackend")
# Incidents reported in this many days up to the map's "as of" date are shown by default.
INCIDENTS_MAP_WINDOW_DAYS = env_int("INCIDENTS_MAP_WINDOW_DAYS", 30)

# --- Listening pipeline (ingest, group) ------------------------------------------------------

# Posts stored and processed per batch (one transaction, one Celery task each).
INCIDENTS_INGEST_BATCH_SIZE = env_int("INCIDENTS_INGEST_BATCH_SIZE", 2000)
# Most posts one POST /api/posts/ request may carry.
INCIDENTS_API_MAX_BATCH = env_int("INCIDENTS_API_MAX_BATCH", 1000)
# A post joins an open incident of a related category within this distance of its point, in metres ...
INCIDENTS_GROUP_DISTANCE_M = env_float("INCIDENTS_GROUP_DISTANCE_M", 50.0)
# ... or on the same street segment within this distance, in metres ...
INCIDENTS_GROUP_SEGMENT_DISTANCE_M = env_float("INCIDENTS_GROUP_SEGMENT_DISTANCE_M", 150.0)
# ... when posted at most this long before its first or after its last post, in days.
INCIDENTS_GROUP_OPEN_DAYS = env_float("INCIDENTS_GROUP_OPEN_DAYS", 30.0)
# A new incident records the resolved one it reports again when that one's last post is this recent, in days.
INCIDENTS_RECURRENCE_DAYS = env_float("INCIDENTS_RECURRENCE_DAYS", 365.0)
# Celery queue the pipeline's batches go to (tests use their own, the broker may be shared).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "cityincidents")
# ingest_posts parses, stores and decides the next batches in a second thread (and connection) meanwhile.
INCIDENTS_INGEST_STORE_AHEAD = env_bool("INCIDENTS_INGEST_STORE_AHEAD", True)

# --- Channels: listening on Mastodon, Bluesky and X, answering there (incidents/channels) ---------

# Seconds between two polls of a channel, unless the channel says otherwise (channels add --interval).
INCIDENTS_LISTEN_INTERVAL_S = env_int("INCIDENTS_LISTEN_INTERVAL_S", 60)
# A new channel's first poll reads this many days back, unless it is given --since.
INCIDENTS_LISTEN_BACKFILL_DAYS = env_float("INCIDENTS_LISTEN_BACKFILL_DAYS", 7.0)
# A channel without a successful poll for its interval plus this many seconds is flagged to staff.
INCIDENTS_LISTEN_FAILING_AFTER_S = env_int("INCIDENTS_LISTEN_FAILING_AFTER_S", 1800)
# Seconds to connect to a network and to wait for each read of its answer (every request).
INCIDENTS_LISTEN_TIMEOUT_S = env_float("INCIDENTS_LISTEN_TIMEOUT_S", 10.0)
# A request failing with a 5xx, a timeout, a broken connection or unreadable JSON is tried again this many
# times, after an exponential backoff with jitter starting at INCIDENTS_LISTEN_BACKOFF_S seconds (at most
# INCIDENTS_LISTEN_BACKOFF_MAX_S).
INCIDENTS_LISTEN_RETRIES = env_int("INCIDENTS_LISTEN_RETRIES", 3)
INCIDENTS_LISTEN_BACKOFF_S = env_float("INCIDENTS_LISTEN_BACKOFF_S", 1.0)
INCIDENTS_LISTEN_BACKOFF_MAX_S = env_float("INCIDENTS_LISTEN_BACKOFF_MAX_S", 60.0)
# A rate limit (429) resetting within this many seconds is waited out in the poll; a later one ends the
# poll and the channel waits for the reset.
INCIDENTS_LISTEN_MAX_WAIT_S = env_float("INCIDENTS_LISTEN_MAX_WAIT_S", 60.0)
# Most pages read per stream (hashtag, search, mentions) in one poll; a longer backlog goes on at the next.
INCIDENTS_LISTEN_MAX_PAGES = env_int("INCIDENTS_LISTEN_MAX_PAGES", 20)
# The post a reply answers, when no stream read it (Mastodon: nor any stream of the same instance), is read
# from the network so that the reply meets its report: at most this many per batch of pages (0: never).
INCIDENTS_LISTEN_MAX_PARENTS = env_int("INCIDENTS_LISTEN_MAX_PARENTS", 20)
# How often the listener (manage.py listen, or Celery beat) looks for due channels and replies, in seconds.
INCIDENTS_LISTEN_TICK_S = env_float("INCIDENTS_LISTEN_TICK_S", 10.0)
# A reply the network did not take is tried again after this many seconds, doubling each time (with jitter) ...
INCIDENTS_REPLY_BACKOFF_S = env_float("INCIDENTS_REPLY_BACKOFF_S", 30.0)
# ... until this many seconds after its first attempt; then it is marked failed. Keep it under an hour:
# Mastodon remembers an Idempotency-Key for one hour.
INCIDENTS_REPLY_RETRY_FOR_S = env_float("INCIDENTS_REPLY_RETRY_FOR_S", 3000.0)

# With CELERY_BROKER_URL set, `celery -A cityincidents beat` polls the due channels and delivers the due
# replies every tick, as `manage.py listen` does (the same service). A tick not taken in time is dropped.
CELERY_BEAT_SCHEDULE = {
    "listen-channels": {
        "task": "incidents.listen_tick",
        "schedule": INCIDENTS_LISTEN_TICK_S,
        "options": {"expires": INCIDENTS_LISTEN_TICK_S},
    }
}
# --- Subscriptions, e-mail and webhooks (incidents/notify) -----------------------------------

# E-mail goes through Django's mail framework: an SMTP server by default.
EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_float("DJANGO_EMAIL_TIMEOUT", 30.0)
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "cityincidents@localhost")
# Where the service is reached from outside, without a trailing slash: links in e-mails and feeds made
# without a request, and the contact named in the User-Agent of every request to the networks. By default
# https:// and the first allowed host; the development server's address when none is set.
_PUBLIC_HOST = next(
    (host.lstrip(".") for host in ALLOWED_HOSTS if host not in ("*", "testserver") and not host.startswith("[")), ""
)
INCIDENTS_SITE_URL = env_str(
    "INCIDENTS_SITE_URL", f"https://{_PUBLIC_HOST}" if _PUBLIC_HOST and not DEBUG else "http://127.0.0.1:8000"
).rstrip("/")
# A delivery that fails is tried again after this many seconds, then twice as long each time ...
INCIDENTS_DELIVERY_RETRY_SECONDS = env_float("INCIDENTS_DELIVERY_RETRY_SECONDS", 30.0)
# ... for this long after the event, in seconds; then it is given up and its subscription paused.
INCIDENTS_DELIVERY_RETRY_FOR_SECONDS = env_float("INCIDENTS_DELIVERY_RETRY_FOR_SECONDS", 86400.0)
# manage.py deliver looks for new deliveries this often, in seconds.
INCIDENTS_DELIVERY_POLL_SECONDS = env_float("INCIDENTS_DELIVERY_POLL_SECONDS", 2.0)
# Daily digests leave at this local hour (0-23).
INCIDENTS_DIGEST_HOUR = env_int("INCIDENTS_DIGEST_HOUR", 7)
# A webhook receiver has this long to answer, in seconds.
INCIDENTS_WEBHOOK_TIMEOUT_SECONDS = env_float("INCIDENTS_WEBHOOK_TIMEOUT_SECONDS", 10.0)
# Webhooks may only call public addresses unless this is on (a receiver on the city's own network, tests).
INCIDENTS_WEBHOOK_ALLOW_PRIVATE = env_bool("INCIDENTS_WEBHOOK_ALLOW_PRIVATE", False)
# The deliveries' Celery task lives beside the subscriptions, not in incidents/tasks.py.
CELERY_IMPORTS = ("incidents.notify.tasks",)
