"""The package's django-q2 schedules, created and updated idempotently, plus stock due-times.

Every schedule row we own is named ``wagtail_easycars:<purpose>``; rows with other names are
never read or changed. ``next_run`` is always set explicitly: django-q2 computes it only when a
cron row is first created, so an edited cron would otherwise keep its old time, and a row whose
``next_run`` lies in the past (the cluster was down) would replay every missed slot.

Time zones: django-q2 evaluates cron in one zone for the whole cluster. A dealership in Perth and
one in Sydney both want stock at "2 am", so the stock schedule is a check that runs every quarter
hour (STOCK_SYNC_CHECK_CRON, in the cluster's zone) and starts a sync for each dealership whose
STOCK_SYNC_CRON slot has passed in the dealership's own time zone since its last scheduled run:
DST changes and half-hour zones are handled by croniter in that zone, and any number of missed
slots starts one run. Lead schedules (hourly and every five minutes) are zone-independent and run
on the cluster's clock.
"""

from datetime import datetime

from croniter import croniter
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from .conf import get_setting

PREFIX = "wagtail_easycars:"

#: name -> (task function, setting holding its cron)
SCHEDULES = {
    f"{PREFIX}stock": ("wagtail_easycars.tasks.sync_all_stock", "STOCK_SYNC_CHECK_CRON"),
    f"{PREFIX}leads": ("wagtail_easycars.tasks.sync_all_leads", "LEAD_SYNC_CRON"),
    f"{PREFIX}lead-sweep": ("wagtail_easycars.tasks.sweep_pending_leads", "LEAD_SWEEP_CRON"),
}
#: The fan-outs only enqueue work; they get a short timeout of their own.
FAN_OUT_TIMEOUT = 120


def _cron(setting):
    value = get_setting(setting)
    if not isinstance(value, str) or not croniter.is_valid(value):
        raise ImproperlyConfigured(f"WAGTAIL_EASYCARS[{setting!r}] is not a valid cron expression: {value!r}")
    return value


def _next_run(cron):
    from django_q.utils import localtime

    return croniter(cron, localtime()).get_next(datetime)


def ensure_schedules():
    """Create or update the package's schedules; returns ``[(name, "created"|"updated"|"unchanged"|"removed")]``."""
    from django_q.models import Schedule

    report = []
    now = timezone.now()
    for name, (func, setting) in SCHEDULES.items():
        cron = _cron(setting)
        wanted = {
            "func": func,
            "schedule_type": Schedule.CRON,
            "cron": cron,
            "repeats": -1,
            "args": None,
            "kwargs": repr({"q_options": {"timeout": FAN_OUT_TIMEOUT}}),
        }
        rows = list(Schedule.objects.filter(name=name).order_by("pk"))
        for extra in rows[1:]:  # names are not unique in django-q2: keep one row of ours
            extra.delete()
        row = rows[0] if rows else None
        if row is None:
            Schedule.objects.create(name=name, next_run=_next_run(cron), **wanted)
            report.append((name, "created"))
            continue
        changed = [key for key, value in wanted.items() if getattr(row, key) != value]
        stale = row.next_run is None or row.next_run < now
        if changed or stale:
            for key, value in wanted.items():
                setattr(row, key, value)
            # Explicit next_run: a changed cron takes effect now, and missed slots collapse.
            row.next_run = _next_run(cron)
            row.save()
            report.append((name, "updated"))
        else:
            report.append((name, "unchanged"))
    for row in Schedule.objects.filter(name__startswith=PREFIX).exclude(name__in=list(SCHEDULES)):
        report.append((row.name, "removed"))
        row.delete()
    return report


def last_stock_slot(dealership, now=None):
    """The latest STOCK_SYNC_CRON time at or before ``now``, in the dealership's time zone."""
    now = now or timezone.now()
    local_now = now.astimezone(dealership.zoneinfo)
    return croniter(_cron("STOCK_SYNC_CRON"), local_now).get_prev(datetime)


def stock_dealerships(*, due_only=True, now=None):
    """Dealerships with syncing on (and, with ``due_only``, whose stock slot has come)."""
    from .models import Dealership, SyncLog

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
