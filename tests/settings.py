"""Settings for the test suite: SQLite by default, PostgreSQL when DATABASE_URL is set."""

import base64
import os

import dj_database_url

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
SECRET_KEY = "tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-au"

INSTALLED_APPS = [
    "wagtail_easycars",
    "tests.testapp",
    "django_q",
    "django_filters",
    "wagtail.api.v2",
    "wagtail.contrib.forms",
    "wagtail.contrib.settings",
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
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(BASE_DIR, "templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(default="sqlite:///:memory:", conn_max_age=0),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file-backed test database lets the live server and sandbox threads share it.
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("EASYCARS_SQLITE_TEST_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "easycars-tests"},
}
# Tests want a cache of their own per process (W003 is for deployments; tests/test_checks.py covers it).
SILENCED_SYSTEM_CHECKS = ["wagtail_easycars.W003"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(BASE_DIR, "_static")
MEDIA_URL = "/media/"
MEDIA_ROOT = os.environ.get("EASYCARS_TEST_MEDIA_ROOT", os.path.join(BASE_DIR, "_media"))

WAGTAIL_SITE_NAME = "EasyCars tests"
WAGTAILADMIN_BASE_URL = "http://testserver"
WAGTAILIMAGES_IMAGE_MODEL = "wagtailimages.Image"

# A fixed, test-only key; tests that exercise rotation override ENCRYPTION_KEYS.
TEST_ENCRYPTION_KEY = base64.b64encode(b"k" * 32).decode()
WAGTAIL_EASYCARS = {
    "ENCRYPTION_KEYS": {"test-1": TEST_ENCRYPTION_KEY},
    "RETRY_INITIAL_DELAY": 0.01,
    "RETRY_MAX_DELAY": 0.05,
    "ALLOWED_PRIVATE_IMAGE_HOSTS": ["127.0.0.1", "localhost"],
}

Q_CLUSTER = {
    "name": "easycars-tests",
    "orm": "default",
    "sync": True,
    "timeout": 60,
    "retry": 120,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"wagtail_easycars": {"handlers": ["null"], "level": "DEBUG", "propagate": True}},
}
