"""System checks: say exactly what to set when the package is misconfigured."""

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.db import DatabaseError, transaction

from . import crypto
from .conf import DEFAULTS, get_setting


@register()
def check_encryption_keys(app_configs, **kwargs):
    try:
        crypto.load_keyring()
    except crypto.EncryptionKeyError as exc:
        return [Error(str(exc), id="wagtail_easycars.E001")]
    return []


#: How many credential rows ``check_stored_credentials`` reads: it runs with every management command.
CREDENTIAL_CHECK_LIMIT = 200
#: How many unreadable dealerships the warning names.
CREDENTIAL_CHECK_NAMED = 10


@register()
def check_stored_credentials(app_configs, **kwargs):
    """W004: the configured keys cannot read some stored credentials, so their syncs fail.

    Cheap: the key ids in the stored values against the keyring, then one decryption per row,
    for at most ``CREDENTIAL_CHECK_LIMIT`` rows. Names dealerships and key ids, never a value.
    """
    try:
        keyring = crypto.load_keyring()
    except crypto.EncryptionKeyError:
        return []  # E001 says what to set
    try:
        unreadable = _unreadable_credentials(keyring)
    except DatabaseError:
        return []  # no tables yet (before migrate) or no database to reach: nothing stored to check
    if not unreadable:
        return []
    return [
        Warning(
            f"The configured encryption keys cannot read the stored EasyCars credentials of {len(unreadable)} "
            f"dealership(s): {'; '.join(unreadable[:CREDENTIAL_CHECK_NAMED])}"
            + ("; …" if len(unreadable) > CREDENTIAL_CHECK_NAMED else "")
            + ". Their syncs fail, and saving part of their credentials is refused.",
            hint="Configure the key that wrote them (docs/keys.md), or enter all four values again in the "
            "EasyCars settings of the admin or with manage.py easycars_credentials set.",
            id="wagtail_easycars.W004",
        )
    ]


def _unreadable_credentials(keyring):
    """``"<slug> (<why>)"`` for each of the first rows whose values these keys cannot read."""
    from .models import EasyCarsCredential

    with transaction.atomic():
        rows = list(EasyCarsCredential.objects.select_related("dealership").order_by("pk")[:CREDENTIAL_CHECK_LIMIT])
    problems = []
    for credential in rows:
        why = _why_unreadable(credential, keyring)
        if why:
            problems.append(f"{credential.dealership.slug} ({why})")
    return problems


def _why_unreadable(credential, keyring):
    """Why this process cannot read the credential's values, or None; the key ids first, then one decryption."""
    from .models.credentials import SECRET_FIELDS

    tokens = {field: getattr(credential, f"{field}_encrypted") for field in SECRET_FIELDS}
    stored = {field: token for field, token in tokens.items() if token}
    key_ids = {crypto.key_id_of(token) for token in stored.values()}
    if None in key_ids:
        return "a value is not in a known format"
    missing = sorted(key_ids - set(keyring))
    if missing:
        return f"written with key {', '.join(repr(key_id) for key_id in missing)}, which is not configured"
    for field in list(stored)[:1]:
        try:
            getattr(credential, field)
        except crypto.SecretDecryptionError:
            return f"the {field.replace('_', ' ')} does not decrypt: the key configured under its id is another key"
    return None


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
