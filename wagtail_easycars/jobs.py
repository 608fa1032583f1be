"""The package's one seam to django-q2: queue a task, schedule one for later, keep the recurring schedules.

Nothing else in the package imports ``django_q``. Code that wants work done in the background
names the task with a constant below and calls :func:`enqueue` or :func:`schedule_once`; the
task functions themselves are in :mod:`wagtail_easycars.tasks`, which calls into the syncs. So
the syncs never import the tasks module, and the import graph stays one-way.

Recurring schedules: every row we own is named ``wagtail_easycars:<purpose>``; rows with other
names are never read or changed. ``next_run`` is always set explicitly: django-q2 computes it only
when a cron row is first created, so an edited cron would otherwise keep its old time, and a row
whose ``next_run`` lies in the past (the cluster was down) would replay every missed slot.
Stock is checked every quarter hour and each dealership's own slot is worked out in its time
zone (:mod:`wagtail_easycars.sync.stock.schedules`); lead schedules run on the cluster's clock.
"""

from datetime import datetime

from croniter import croniter
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils import timezone

from .conf import get_setting

PREFIX = "wagtail_easycars:"

# Task names: django-q2 imports a task by its dotted path in the worker.
PUSH_LEAD = "wagtail_easycars.tasks.push_lead"
RUN_STOCK_SYNC = "wagtail_easycars.tasks.run_stock_sync"
RUN_LEAD_SYNC = "wagtail_easycars.tasks.run_lead_sync"
INDEX_VEHICLES = "wagtail_easycars.tasks.index_vehicles"
SYNC_ALL_STOCK = "wagtail_easycars.tasks.sync_all_stock"
SYNC_ALL_LEADS = "wagtail_easycars.tasks.sync_all_leads"
SWEEP_PENDING_LEADS = "wagtail_easycars.tasks.sweep_pending_leads"
PRUNE_HISTORY = "wagtail_easycars.tasks.prune_history"

#: name -> (task, setting holding its cron)
SCHEDULES = {
    f"{PREFIX}stock": (SYNC_ALL_STOCK, "STOCK_SYNC_CHECK_CRON"),
    f"{PREFIX}leads": (SYNC_ALL_LEADS, "LEAD_SYNC_CRON"),
    f"{PREFIX}lead-sweep": (SWEEP_PENDING_LEADS, "LEAD_SWEEP_CRON"),
    f"{PREFIX}prune": (PRUNE_HISTORY, "PRUNE_CRON"),
}
#: The fan-outs only enqueue work; they get a short timeout of their own.
FAN_OUT_TIMEOUT = 120
#: Scheduled tasks that do the work themselves get the sync's TASK_TIMEOUT instead.
LONG_SCHEDULED_TASKS = {PRUNE_HISTORY}


def enqueue(task, *args, name, timeout=None):
    """Queue ``task(*args)`` now; returns django-q2's task id. Raises when the broker cannot take it."""
    from django_q.tasks import async_task

    options = {"task_name": f"{PREFIX}{name}"}
    if timeout is not None:
        options["timeout"] = timeout
    return async_task(task, *args, **options)


def schedule_once(name, task, *args, when):
    """Run ``task(*args)`` once at ``when``; an earlier schedule of the same name is replaced."""
    from django_q.models import Schedule

    full_name = f"{PREFIX}{name}"
    Schedule.objects.filter(name=full_name).delete()
    Schedule.objects.create(
        name=full_name, func=task, args=repr(args), schedule_type=Schedule.ONCE, repeats=-1, next_run=when
    )


def cron_setting(setting):
    """The cron expression in ``WAGTAIL_EASYCARS[setting]``; ImproperlyConfigured when it is not one."""
    value = get_setting(setting)
    if not isinstance(value, str) or not croniter.is_valid(value):
        raise ImproperlyConfigured(f"WAGTAIL_EASYCARS[{setting!r}] is not a valid cron expression: {value!r}")
    return value


def _next_run(cron):
    from django_q.utils import localtime

    return croniter(cron, localtime()).get_next(datetime)


def _schedule_timeout(func):
    return int(get_setting("TASK_TIMEOUT")) if func in LONG_SCHEDULED_TASKS else FAN_OUT_TIMEOUT


def ensure_schedules():
    """Create or update the package's schedules; returns ``[(name, "created"|"updated"|"unchanged"|"removed")]``."""
    from django_q.models import Schedule

    report = []
    now = timezone.now()
    for name, (func, setting) in SCHEDULES.items():
        cron = cron_setting(setting)
        wanted = {
            "func": func,
            "schedule_type": Schedule.CRON,
            "cron": cron,
            "repeats": -1,
            "args": None,
            "kwargs": repr({"q_options": {"timeout": _schedule_timeout(func)}}),
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
    recurring = Schedule.objects.filter(name__startswith=PREFIX).exclude(schedule_type=Schedule.ONCE)
    for row in recurring.exclude(name__in=list(SCHEDULES)):
        report.append((row.name, "removed"))
        row.delete()
    return report


def cluster_alive():
    """True when a running django-q2 cluster has reported its stats lately.

    A cluster rewrites its stats in the cache every few seconds with a short expiry, so a stat
    that is still there means the cluster was alive moments ago.
    """
    from django_q.conf import Conf
    from django_q.status import Stat

    return any(stat.status not in (Conf.STOPPED, Conf.STOPPING) for stat in Stat.get_all())


def oldest_queued_task_age():
    """Seconds the oldest waiting task has been in the ORM broker's queue; None when empty or not the ORM broker."""
    from django_q.conf import Conf
    from django_q.models import OrmQ

    if not Conf.ORM:
        return None
    now = timezone.now()
    waiting = OrmQ.objects.using(Conf.ORM).filter(key=Conf.CLUSTER_NAME, lock__lte=now)
    oldest = waiting.order_by("lock").values_list("lock", flat=True).first()
    return None if oldest is None else (now - oldest).total_seconds()


def expired_task_results(before):
    """The package's django-q2 task results that stopped before ``before``, as a queryset to prune.

    Only rows named ``wagtail_easycars:...`` (queued by :func:`enqueue`) or grouped under one of our
    schedules (django-q2 groups a scheduled task under the schedule's name) are included: other
    apps' task results are theirs to keep. Success and Failure are proxies of Task: one table.
    """
    from django_q.models import Task

    return Task.objects.filter(Q(name__startswith=PREFIX) | Q(group__startswith=PREFIX), stopped__lt=before)
