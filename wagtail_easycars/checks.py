"""System checks: say exactly what to set when the package is misconfigured."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from . import crypto
from .conf import DEFAULTS, get_setting


@register()
def check_encryption_keys(app_configs, **kwargs):
    try:
        crypto.load_keyring()
    except crypto.EncryptionKeyError as exc:
        return [Error(str(exc), id="wagtail_easycars.E001")]
    return []


@register()
def check_settings(app_configs, **kwargs):
    problems = []
    overrides = getattr(settings, "WAGTAIL_EASYCARS", {}) or {}
    if not isinstance(overrides, dict):
        return [Error("settings.WAGTAIL_EASYCARS must be a dict.", id="wagtail_easycars.E002")]
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        problems.append(
            Warning(
                f"Unknown WAGTAIL_EASYCARS keys: {', '.join(unknown)}.",
                hint="See docs/configuration.md for the supported keys.",
                id="wagtail_easycars.W001",
            )
        )
    base_urls = get_setting("BASE_URLS")
    if not isinstance(base_urls, dict) or not {"test", "production"} <= set(base_urls):
        problems.append(
            Error(
                'WAGTAIL_EASYCARS["BASE_URLS"] must map both "test" and "production" to a URL.',
                id="wagtail_easycars.E003",
            )
        )
    if "django_q" not in settings.INSTALLED_APPS:
        problems.append(
            Error(
                '"django_q" is not in INSTALLED_APPS; EasyCars syncs run as django-q2 tasks.',
                hint='Add "django_q" to INSTALLED_APPS and run migrate.',
                id="wagtail_easycars.E004",
            )
        )
    q_cluster = getattr(settings, "Q_CLUSTER", {}) or {}
    timeout, retry = q_cluster.get("timeout"), q_cluster.get("retry")
    if timeout is not None and retry is not None and retry <= timeout:
        problems.append(
            Warning(
                f"Q_CLUSTER['retry'] ({retry}) must be larger than Q_CLUSTER['timeout'] ({timeout}).",
                hint="Otherwise the broker hands a running task to a second worker and syncs run twice.",
                id="wagtail_easycars.W002",
            )
        )
    problems.extend(_check_cache())
    return problems


#: Cache backends that do not share anything between processes.
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "keeps them per process",
    "django.core.cache.backends.dummy.DummyCache": "stores nothing",
}


def _check_cache():
    alias = get_setting("CACHE_ALIAS")
    caches = getattr(settings, "CACHES", None) or {}
    if alias not in caches:
        return [
            Error(
                f'WAGTAIL_EASYCARS["CACHE_ALIAS"] is {alias!r}, which is not in CACHES.',
                hint='Name a cache that settings.CACHES defines (the default is "default").',
                id="wagtail_easycars.E005",
            )
        ]
    backend = caches[alias].get("BACKEND", "")
    if backend in PER_PROCESS_CACHES and not settings.DEBUG:
        return [
            Warning(
                f"The {alias!r} cache ({backend.rsplit('.', 1)[-1]}) {PER_PROCESS_CACHES[backend]}: EasyCars "
                "tokens, the circuit breaker and the manual sync rate limit are not shared between the "
                "site and the workers.",
                hint="Use a cache every process shares (Redis, Memcached, the database or file cache), "
                'or point WAGTAIL_EASYCARS["CACHE_ALIAS"] at one.',
                id="wagtail_easycars.W003",
            )
        ]
    return []
