"""The health checks: each one a function returning :class:`Result` objects, cheap enough for a monitor to poll.

Messages name dealerships but never secrets or account numbers; the views show them only to
callers with the health token or staff.
"""

import uuid
from dataclasses import asdict, dataclass

from django.core.cache import caches
from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.timesince import timesince

from .. import jobs
from ..client.breaker import CircuitBreaker
from ..conf import get_setting
from ..models import EasyCarsCredential, SyncLog
from .schedules import SUCCESSFUL, schedule

#: A dealership is stale when its last successful stock sync is older than this many intervals.
STALE_AFTER_INTERVALS = 2


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    message: str

    def as_dict(self):
        return asdict(self)


def check_database():
    """A trivial query on the default database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return Result("database", False, f"the database did not answer: {type(exc).__name__}")
    return Result("database", True, "OK")


def check_jobs():
    """A django-q2 cluster alive, and the oldest queued task (ORM broker) not waiting too long."""
    try:
        alive = jobs.cluster_alive()
        age = jobs.oldest_queued_task_age()
    except Exception as exc:  # a broken broker is exactly what this check reports
        return Result("jobs", False, f"the job system could not be asked: {type(exc).__name__}")
    if not alive:
        return Result("jobs", False, "no django-q2 cluster is running (start `manage.py qcluster`)")
    limit = get_setting("HEALTH_MAX_QUEUE_AGE")
    if age is not None and age > limit:
        return Result("jobs", False, f"the oldest queued task has waited {round(age)} s (limit {limit} s)")
    return Result("jobs", True, "OK")


def check_cache():
    """Set and read back a key in the shared cache the breakers and tokens live in."""
    key = f"wagtail_easycars:health:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    try:
        cache = caches[get_setting("CACHE_ALIAS")]
        cache.set(key, value, 30)
        read = cache.get(key)
        cache.delete(key)
    except Exception as exc:  # any backend error means the cache is not usable
        return Result("cache", False, f"the cache failed: {type(exc).__name__}")
    if read != value:
        return Result("cache", False, "the cache did not return the value just set")
    return Result("cache", True, "OK")


def active_credentials():
    """The credentials of dealerships that sync: configured and not paused."""
    rows = EasyCarsCredential.objects.filter(is_active=True).select_related("dealership").order_by("dealership__name")
    return [credential for credential in rows if credential.is_configured]


def check_easycars(credentials):
    """One result per environment in use: how many of its accounts' circuit breakers are open."""
    cache = caches[get_setting("CACHE_ALIAS")]
    by_environment = {}
    for credential in credentials:
        by_environment.setdefault(credential.environment, []).append(credential)
    results = []
    for environment, group in sorted(by_environment.items()):
        open_for = [c.dealership.name for c in group if _breaker_open(cache, environment, c)]
        name = f"easycars:{environment}"
        if open_for:
            message = f"calls paused after repeated failures for {len(open_for)} of {len(group)} dealership(s): "
            results.append(Result(name, False, message + ", ".join(open_for)))
        else:
            results.append(Result(name, True, "OK"))
    return results


def _breaker_open(cache, environment, credential):
    # The breaker is keyed by the account number, so the secret is decrypted but never shown.
    return CircuitBreaker(cache, environment, credential.account_number).is_open()


def check_freshness(credentials, now=None):
    """One result per syncing dealership: its last successful stock sync within two schedule intervals."""
    now = now or timezone.now()
    return [_freshness(credential, now) for credential in credentials]


def _freshness(credential, now):
    dealership = credential.dealership
    name = f"freshness:{dealership.slug}"
    interval, _next = schedule(SyncLog.SyncType.STOCK, dealership.zoneinfo, now)
    if interval is None:
        return Result(name, False, "STOCK_SYNC_CRON is not a valid cron expression")
    last = (
        SyncLog.objects.filter(dealership=dealership, sync_type=SyncLog.SyncType.STOCK, status__in=SUCCESSFUL)
        .values_list("completed_at", "started_at")
        .first()
    )
    # Never synced: counted from when the credentials were saved.
    since = (last[0] or last[1]) if last else credential.updated_at
    if since >= now - STALE_AFTER_INTERVALS * interval:
        return Result(name, True, "OK")
    ago = f"{timesince(since, now)} ago"
    what = f"last successful stock sync {ago}" if last else f"no successful stock sync; credentials saved {ago}"
    return Result(name, False, f"{dealership.name}: {what} (expected every {timesince(now - interval, now)})")


def run_checks():
    """Every check: database, jobs, cache, each EasyCars environment in use, each dealership's freshness."""
    results = [check_database(), check_jobs(), check_cache()]
    if not results[0].ok:
        return results  # the rest read the database
    credentials = active_credentials()
    return results + check_easycars(credentials) + check_freshness(credentials)


def liveness():
    """The database only: the process can serve requests. Touches neither EasyCars nor the job system."""
    return [check_database()]


def report(results):
    """The JSON form: ``{"ok": bool, "checks": [{"name", "ok", "message"}, ...]}``."""
    return {"ok": all(result.ok for result in results), "checks": [result.as_dict() for result in results]}
