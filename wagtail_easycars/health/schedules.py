"""When a sync is due: the interval and next slot of its cron, in the dealership's time zone.

Shared by the admin dashboard and the freshness health check, so both judge "late" the same way.
"""

import datetime as dt

from croniter import croniter

from ..conf import get_setting
from ..models import SyncLog

#: Runs that count as a successful sync (a warning still brought the data in).
SUCCESSFUL = (SyncLog.Status.SUCCESS, SyncLog.Status.WARNING)
CRON_SETTINGS = {SyncLog.SyncType.STOCK: "STOCK_SYNC_CRON", SyncLog.SyncType.LEAD: "LEAD_SYNC_CRON"}


def schedule(sync_type, tz, now):
    """``(interval, next_run)`` of the sync's cron schedule in the dealership's time zone (Nones if invalid)."""
    try:
        local_now = now.astimezone(tz)
        previous = croniter(get_setting(CRON_SETTINGS[sync_type]), local_now)
        last = previous.get_prev(dt.datetime)
        interval = last - previous.get_prev(dt.datetime)
        next_run = croniter(get_setting(CRON_SETTINGS[sync_type]), local_now).get_next(dt.datetime)
    except (ValueError, KeyError, TypeError):
        return None, None
    return interval, next_run
