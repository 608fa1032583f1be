"""When a dealership's stock is due: its STOCK_SYNC_CRON slot, in its own time zone.

A dealership in Perth and one in Sydney both want stock at "2 am", but django-q2 evaluates cron
in one zone for the whole cluster. So the recurring stock schedule (see :mod:`wagtail_easycars.jobs`)
is a check that runs every quarter hour (STOCK_SYNC_CHECK_CRON, in the cluster's zone) and starts
a sync for each dealership whose STOCK_SYNC_CRON slot has passed in the dealership's own time zone
since its last scheduled run: DST changes and half-hour zones are handled by croniter in that
zone, and any number of missed slots starts one run.
"""

from datetime import datetime

from croniter import croniter
from django.utils import timezone

from ...jobs import cron_setting
from ...models import Dealership, SyncLog


def last_stock_slot(dealership, now=None):
    """The latest STOCK_SYNC_CRON time at or before ``now``, in the dealership's time zone."""
    now = now or timezone.now()
    local_now = now.astimezone(dealership.zoneinfo)
    return croniter(cron_setting("STOCK_SYNC_CRON"), local_now).get_prev(datetime)


def stock_dealerships(*, due_only=True, now=None):
    """Dealerships with syncing on (and, with ``due_only``, whose stock slot has come)."""
    now = now or timezone.now()
    dealerships = Dealership.objects.filter(easycars_credential__is_active=True).select_related("easycars_credential")
    chosen = []
    for dealership in dealerships:
        credential = dealership.easycars_credential
        if not credential.is_configured:
            continue
        if due_only:
            last = (
                SyncLog.objects.filter(
                    dealership=dealership, sync_type=SyncLog.SyncType.STOCK, trigger=SyncLog.Trigger.SCHEDULE
                )
                .order_by("-started_at")
                .values_list("started_at", flat=True)
                .first()
            )
            baseline = max(filter(None, [last, credential.created_at]))
            if last_stock_slot(dealership, now) <= baseline:
                continue
        chosen.append(dealership)
    return chosen
