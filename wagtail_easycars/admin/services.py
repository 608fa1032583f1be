"""What the admin's screens and JSON endpoints do, apart from showing it.

Connection tests, saving, pausing and deleting a dealership's credentials (each in Wagtail's
audit log), and starting a sync by hand (the checks, the hourly limit, the hand-off to the task
queue). The HTML views and the JSON API both call these, so they refuse, join and log alike.
"""

import logging
import time

from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.log_actions import log
from wagtail.log_actions import registry as log_registry

from .. import crypto
from ..client import http as easycars_client
from ..conf import get_setting
from ..models import EasyCarsCredential, SyncLog
from ..sync.leads.runs import request_lead_sync
from ..sync.runs import running_log
from ..sync.stock.runs import request_stock_sync

logger = logging.getLogger(__name__)

#: The names of the four secrets, as form fields and EasyCarsAccount attributes.
SECRET_FIELD_NAMES = ("client_id", "client_secret", "account_number", "account_secret")
#: What the screens and the API say when a stored secret cannot be decrypted with this site's keys.
UNREADABLE_CREDENTIALS_MESSAGE = gettext_lazy(
    "The stored credentials cannot be read with this site's encryption key; enter all four values to "
    "replace them, or fix the key — see docs/keys.md."
)

# Credentials ---------------------------------------------------------------------------------

CREDENTIAL_ACTIONS = (
    "wagtail_easycars.credentials.set",
    "wagtail_easycars.credentials.delete",
    "wagtail_easycars.credentials.pause",
    "wagtail_easycars.credentials.resume",
    "wagtail_easycars.credentials.test",
)


def _scrub(text, account):
    """Belt and braces: the client's messages carry no secrets, but never let a typed one through."""
    for name in SECRET_FIELD_NAMES:
        value = getattr(account, name, "")
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


def connection_test_outcome(account):
    """Run the client's connection test; returns ``{"ok", "failed_pair", "fields", "message"}``."""
    try:
        result = easycars_client.test_connection(account)
    except Exception:  # a misconfigured site (say, no base URL) must not become a 500 here
        logger.exception("EasyCars connection test crashed for %s", account.label or "unsaved credentials")
        return {
            "ok": False,
            "failed_pair": None,
            "fields": [],
            "message": _("The connection test could not run; the site's EasyCars configuration may be incomplete."),
        }
    environment = _("Production") if account.environment == "production" else _("Test")
    if result.ok:
        message = _("Connected to EasyCars (%(environment)s): both credential pairs were accepted.") % {
            "environment": environment
        }
        fields = []
    elif result.failed_pair == "client":
        message = _(
            "EasyCars rejected the Client ID or the Client Secret. Check both against the values EasyCars "
            "sent when your API access was approved."
        )
        fields = ["client_id", "client_secret"]
    elif result.failed_pair == "account":
        message = _(
            "EasyCars accepted the Client ID and Client Secret but rejected the Account Number or the "
            "Account Secret. Check both against the values EasyCars provided for your dealership's account."
        )
        fields = ["account_number", "account_secret"]
    else:
        message = _scrub(result.message, account)
        fields = []
    return {"ok": bool(result.ok), "failed_pair": result.failed_pair, "fields": fields, "message": message}


def log_connection_test(dealership, user, outcome):
    log(
        dealership,
        "wagtail_easycars.credentials.test",
        user=user,
        data={"ok": outcome["ok"], "failed_pair": outcome["failed_pair"]},
    )


def credential_history(dealership, limit=10):
    return (
        log_registry.get_logs_for_instance(dealership)
        .filter(action__in=CREDENTIAL_ACTIONS)
        .select_related("user")
        .order_by("-timestamp", "-pk")[:limit]
    )


def stored_credentials_problem(credential):
    """What to tell the editor when this site's keys cannot read the stored credentials, or None."""
    error = credential.unreadable_secret_error() if credential is not None else None
    if error is None:
        return None
    return UNREADABLE_CREDENTIALS_MESSAGE if isinstance(error, crypto.SecretDecryptionError) else str(error)


def save_credential(dealership, user, *, environment, yard_code, secrets, tested):
    """Store the dealership's credentials (``secrets``: new values, ``None`` keeps the stored one).

    All four are written under the current key, or nothing is: ``SecretDecryptionError`` when a
    kept value cannot be read with this site's keys (see ``EasyCarsCredential.set_secrets``).
    """
    with transaction.atomic():
        credential = _locked_credential(dealership)
        created = credential.pk is None
        credential.environment = environment
        credential.yard_code = (yard_code or "").strip()
        credential.set_secrets(**secrets)
        credential.updated_by = user
        credential.save()
        _log_credential_set(dealership, user, credential, created=created, secrets=secrets, tested=tested)
    return credential


def _locked_credential(dealership):
    """The dealership's credential row, locked until the transaction ends, or a new unsaved one."""
    existing = EasyCarsCredential.objects.select_for_update().filter(dealership=dealership).first()
    return existing or EasyCarsCredential(dealership=dealership)


def _log_credential_set(dealership, user, credential, *, created, secrets, tested):
    log(
        dealership,
        "wagtail_easycars.credentials.set",
        user=user,
        data={
            "created": created,
            "environment": credential.environment,
            "yard_code": credential.yard_code,
            # Names of the fields that were given new values; never the values.
            "changed_secrets": [name for name in SECRET_FIELD_NAMES if secrets.get(name)],
            "tested": tested,
            "account_number_last4": credential.account_number_last4,
        },
    )


def set_syncing_active(credential, active, user):
    """Pause (``active=False``) or resume syncing; logged only when it changes. Returns whether it did."""
    if credential.is_active == active:
        return False
    credential.is_active = active
    credential.paused_reason = "" if active else credential.PauseReason.MANUAL
    credential.paused_at = None if active else timezone.now()
    if active:
        credential.auth_failure_count = 0  # a person resumed: give the credentials a fresh start
    credential.updated_by = user
    credential.save(
        update_fields=["is_active", "paused_reason", "paused_at", "auth_failure_count", "updated_by", "updated_at"]
    )
    log(credential.dealership, f"wagtail_easycars.credentials.{'resume' if active else 'pause'}", user=user)
    return True


def delete_credential(credential, user):
    dealership = credential.dealership
    last4 = credential.account_number_last4
    credential.delete()
    log(dealership, "wagtail_easycars.credentials.delete", user=user, data={"account_number_last4": last4})


# Manual syncs --------------------------------------------------------------------------------

WINDOW_SECONDS = 3600


class TriggerRefused(Exception):
    """The sync was not started; ``message`` is for the editor, ``code`` for API clients."""

    status = 409

    def __init__(self, message, code, *, retry_after=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after


class RateLimited(TriggerRefused):
    status = 429


def _cache():
    return caches[get_setting("CACHE_ALIAS")]


def _key(dealership):
    return f"wagtail_easycars:manual-syncs:{dealership.pk}"


def recent_manual_triggers(dealership, now=None):
    """Timestamps of the manual syncs started for this dealership in the past hour (all kinds)."""
    now = time.time() if now is None else now
    return [t for t in _cache().get(_key(dealership), []) if now - t < WINDOW_SECONDS]


def check_rate_limit(dealership):
    limit = get_setting("MANUAL_SYNC_LIMIT_PER_HOUR")
    recent = recent_manual_triggers(dealership)
    if limit is not None and len(recent) >= limit:
        retry_after = max(1, int(WINDOW_SECONDS - (time.time() - min(recent))))
        minutes = max(1, round(retry_after / 60))
        raise RateLimited(
            _(
                "%(dealership)s has already started %(limit)s manual syncs in the past hour, the most allowed. "
                "The next one can start in about %(minutes)s minutes; scheduled syncs carry on as usual."
            )
            % {"dealership": dealership, "limit": limit, "minutes": minutes},
            "rate_limited",
            retry_after=retry_after,
        )


def _record_trigger(dealership):
    recent = recent_manual_triggers(dealership)
    recent.append(time.time())
    _cache().set(_key(dealership), recent, WINDOW_SECONDS)


def _requester(sync_type):
    return {SyncLog.SyncType.STOCK: request_stock_sync, SyncLog.SyncType.LEAD: request_lead_sync}[sync_type]


def trigger_sync(dealership, sync_type, user):
    """Start (or join) a manual sync. Returns ``(log, started)``; raises :class:`TriggerRefused`.

    Joining a run that is already going does not count towards the hourly limit.
    """
    credential = getattr(dealership, "easycars_credential", None)
    if credential is None or not credential.is_configured:
        raise TriggerRefused(
            _("EasyCars is not connected for %(dealership)s yet: add the credentials on the Settings page first.")
            % {"dealership": dealership},
            "not_configured",
        )
    if not credential.is_active:
        raise TriggerRefused(
            _("Syncing is paused for %(dealership)s. Resume it on the Settings page to sync again.")
            % {"dealership": dealership},
            "paused",
        )
    current = running_log(dealership, sync_type)
    if current is not None:
        return current, False
    check_rate_limit(dealership)
    run, started = _requester(sync_type)(dealership, user=user, trigger=SyncLog.Trigger.MANUAL)
    if started:
        _record_trigger(dealership)
    return run, started
