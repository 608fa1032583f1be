"""The package's settings: one dict, ``settings.WAGTAIL_EASYCARS``, read at call time.

Reading at call time (never caching) keeps ``override_settings`` working in tests and lets a
site change a value without touching the package. Every key and its default is documented in
docs/configuration.md.
"""

from django.conf import settings

DEFAULTS = {
    # Service paths (/StockService/..., /LeadService/...) are appended to these.
    "BASE_URLS": {
        "test": "https://testmy.easycars.com.au/TestECService",
        "production": "https://my.easycars.net.au/ECService",
    },
    # Encryption keys: {"key-id": "<base64 of 32 bytes>", ...}; the last one writes.
    # When empty, the EASYCARS_ENCRYPTION_KEY environment variable is used (key id "env").
    "ENCRYPTION_KEYS": {},
    # HTTP
    "CONNECT_TIMEOUT": 5.0,
    "READ_TIMEOUT": 30.0,
    "MAX_CONNECTIONS": 10,
    "MAX_RETRIES": 3,
    "RETRY_INITIAL_DELAY": 0.5,
    "RETRY_MAX_DELAY": 8.0,
    "RETRY_AFTER_MAX": 120.0,
    "TOKEN_REFRESH_MARGIN": 60,
    "BREAKER_FAILURE_THRESHOLD": 5,
    "BREAKER_RESET_SECONDS": 60,
    "CACHE_ALIAS": "default",
    # Schedules (cron, evaluated in the dealership's time zone)
    "STOCK_SYNC_CRON": "0 2 * * *",
    # How often the scheduler checks which dealerships' STOCK_SYNC_CRON slot has come (cluster time zone).
    "STOCK_SYNC_CHECK_CRON": "*/15 * * * *",
    "LEAD_SYNC_CRON": "0 * * * *",
    "LEAD_SWEEP_CRON": "*/5 * * * *",
    "PRUNE_CRON": "30 3 * * *",  # daily retention run (cluster time zone), quiet after the 2 a.m. stock syncs
    # Lead pushes (docs/leads.md): back-off while EasyCars is unavailable, never giving up
    "LEAD_RETRY_INITIAL_DELAY": 30,  # seconds before the first retry; doubles per attempt
    "LEAD_RETRY_MAX_DELAY": 3600,
    "LEAD_PUSH_CONCURRENCY": 5,  # CreateLead/UpdateLead/GetLeadDetail requests in flight per run
    "LEAD_RECONCILE_WINDOW": 20,  # lead numbers checked for a CreateLead whose answer was lost
    # A CreateLead whose outcome is unknown is looked for only this long (seconds) after it was sent,
    # and again this long after a scan that found nothing; two such scans before it is sent again.
    "LEAD_RECONCILE_QUIET_SECONDS": 300,
    "LEAD_SWEEP_GRACE_SECONDS": 120,  # a pending lead untouched this long is re-queued by the sweeper
    # Dotted path of f(vehicle) -> absolute URL of its public page (VehicleSourcePageURL);
    # None uses wagtail_easycars.showroom.vehicle_public_url when the showroom provides it.
    "VEHICLE_URL_FUNCTION": None,
    # Stock sync safety
    "DELIST_AFTER_MISSING_PULLS": 2,
    "MAX_DELIST_FRACTION": 0.5,
    "SYNC_BATCH_SIZE": 500,
    "SYNC_LEASE_SECONDS": 300,
    # Images
    "IMAGE_BACKEND": "wagtail",  # or "cloudinary"
    "IMAGE_MAX_BYTES": 15 * 1024 * 1024,
    "IMAGE_CONCURRENCY": 5,
    "IMAGE_TIMEOUT": 20.0,
    "ALLOWED_PRIVATE_IMAGE_HOSTS": [],
    # A photo URL that failed is not fetched again for this long (seconds); doubles per failure.
    "PHOTO_RETRY_INITIAL_DELAY": 3600,
    "PHOTO_RETRY_MAX_DELAY": 86400,
    "CLOUDINARY_URL": None,
    # Retention (docs/admin-guide.md#retention), in days; None keeps for ever.
    # Sync logs and the package's django-q2 task results; the latest run of each kind per dealership is always kept.
    "SYNC_LOG_RETENTION_DAYS": 90,
    "FIELD_HISTORY_RETENTION_DAYS": 365,
    # Vehicle price and special-price changes: kept for the longer of this and FIELD_HISTORY_RETENTION_DAYS.
    "PRICE_HISTORY_RETENTION_DAYS": 730,
    # Tasks (django-q2)
    "TASK_TIMEOUT": 900,
    # Admin
    "MANUAL_SYNC_LIMIT_PER_HOUR": 5,
    # Public site
    "SOLD_GRACE_DAYS": 30,
    "SHOWROOM_PAGE_SIZE": 24,
    "ENQUIRY_RATE_LIMIT": 5,  # enquiries per IP per hour
    "SHOWROOM_CURRENCY": "AUD",  # ISO 4217 code in the JSON-LD Offer
    # Health checks (docs/operations.md)
    "HEALTH_TOKEN": None,  # bearer token for the health endpoints; None: logged-in staff only
    "HEALTH_MAX_QUEUE_AGE": 600,  # seconds the oldest queued task may wait before the job system is unhealthy
}


def get_setting(name):
    """Return ``WAGTAIL_EASYCARS[name]``, falling back to the documented default."""
    overrides = getattr(settings, "WAGTAIL_EASYCARS", {}) or {}
    if name in overrides:
        return overrides[name]
    try:
        return DEFAULTS[name]
    except KeyError:
        raise KeyError(f"Unknown WAGTAIL_EASYCARS setting {name!r}") from None


def get_base_url(environment):
    """The service root for an environment, without a trailing slash."""
    urls = get_setting("BASE_URLS")
    try:
        return urls[environment].rstrip("/")
    except KeyError:
        raise KeyError(f"WAGTAIL_EASYCARS['BASE_URLS'] has no entry for environment {environment!r}") from None
