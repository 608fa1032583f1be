"""Settings of the example dealership site.

Everything that differs between machines comes from the environment:

- ``EASYCARS_ENCRYPTION_KEY``: base64 of 32 random bytes; encrypts the stored EasyCars secrets.
  When unset and DEBUG is on, the example site uses a development key kept in
  .demo/encryption.key (git-ignored), made on first use. See docs/keys.md.
- ``DATABASE_URL``: e.g. ``postgres://postgres@127.0.0.1:5432/easycars_demo``; SQLite when unset.
- ``EASYCARS_TEST_BASE_URL``: where the "test" EasyCars environment lives (the local sandbox).
- ``DJANGO_SECRET_KEY``, ``DJANGO_DEBUG``, ``DJANGO_ALLOWED_HOSTS``.
"""

import base64
import os
from pathlib import Path

import dj_database_url

PROJECT_DIR = Path(__file__).resolve().parent
BASE_DIR = PROJECT_DIR.parent

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"

# So that every manage.py command of the example works from a fresh clone, a development key is
# made once and kept beside the demo's other state; it stays the "env" key that the package reads
# from EASYCARS_ENCRYPTION_KEY. A real site sets that variable itself (docs/keys.md).
DEMO_KEY_FILE = BASE_DIR.parent / ".demo" / "encryption.key"
if DEBUG and not os.environ.get("EASYCARS_ENCRYPTION_KEY"):
    if not DEMO_KEY_FILE.exists():
        DEMO_KEY_FILE.parent.mkdir(exist_ok=True)
        DEMO_KEY_FILE.touch(mode=0o600)
        DEMO_KEY_FILE.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    os.environ["EASYCARS_ENCRYPTION_KEY"] = DEMO_KEY_FILE.read_text().strip()
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-site-only-not-for-production")
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "home",
    "wagtail_easycars",
    "django_q",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.routable_page",
    "wagtail.api.v2",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "rest_framework",
    "django_filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "example_site.urls"
WSGI_APPLICATION = "example_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite by default; DATABASE_URL switches to PostgreSQL (or anything dj-database-url knows).
# An empty DATABASE_URL counts as unset.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The site, the django-q2 worker and the sync write concurrently: WAL plus immediate
    # transactions turn "database is locked" into a short wait.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The EasyCars token cache and circuit breaker are shared by the site and the worker processes,
# so the cache must be shared too (LocMemCache is per process).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.environ.get("EASYCARS_CACHE_DIR", str(BASE_DIR / ".cache")),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-au"
TIME_ZONE = "Australia/Sydney"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static_collected"
STATICFILES_DIRS = [PROJECT_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"

WAGTAIL_SITE_NAME = "Demo Motors"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]

WAGTAIL_EASYCARS = {
    "BASE_URLS": {
        # `make demo` runs the EasyCars sandbox here (python -m wagtail_easycars.sandbox --port 8765).
        "test": os.environ.get("EASYCARS_TEST_BASE_URL", "http://127.0.0.1:8765/TestECService"),
        "production": "https://my.easycars.net.au/ECService",
    },
    # The sandbox serves vehicle photos from loopback, which the image fetcher refuses by default.
    "ALLOWED_PRIVATE_IMAGE_HOSTS": ["127.0.0.1", "localhost"],
    # No ENCRYPTION_KEYS here: the key comes from EASYCARS_ENCRYPTION_KEY (see DEMO_KEY_FILE above).
}

# django-q2 runs the syncs. `retry` must exceed `timeout` (and the longest sync), or the broker
# hands a running task to a second worker; max_attempts bounds retries of a failing task.
Q_CLUSTER = {
    "name": "example_site",
    "orm": "default",
    "workers": 2,
    "timeout": 900,
    "retry": 1200,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 500,
    "poll": 1,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "wagtail_easycars": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django_q": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
