"""Starting a sync from the admin: the checks, the hourly limit, and the hand-off to the task queue.

Shared by the dashboard's buttons and the JSON endpoints so both refuse and join in the same way.
"""

import time

from django.core.cache import caches
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..models import SyncLog
from ..sync.leads.runs import request_lead_sync
from ..sync.runs import running_log
from ..sync.stock.runs import request_stock_sync

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
    log, started = _requester(sync_type)(dealership, user=user, trigger=SyncLog.Trigger.MANUAL)
    if started:
        _record_trigger(dealership)
    return log, started
