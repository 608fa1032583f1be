"""Retention: old sync logs, field history and the package's django-q2 task results, deleted in batches.

Rows are found by primary key in slices (``values_list`` + keyset), never loaded as full model
instances, and every batch is deleted in a transaction of its own, so a prune of millions of rows
holds neither a long lock nor much memory, and an interrupted prune keeps what it already did.
"""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from .. import jobs
from ..conf import get_setting
from ..models import FieldChange, SyncLog

BATCH_SIZE = 5000
#: Vehicle fields whose history is kept for PRICE_HISTORY_RETENTION_DAYS (price trends outlive the rest).
PRICE_FIELDS = ("price", "special_price")


def prune(*, dry_run=False, batch_size=BATCH_SIZE, now=None):
    """Delete (or, on a dry run, count) what is past its retention; returns ``{table: rows}``."""
    now = now or timezone.now()
    options = {"dry_run": dry_run, "batch_size": batch_size}
    logs_cutoff = cutoff("SYNC_LOG_RETENTION_DAYS", now)
    return {
        "sync logs": prune_sync_logs(logs_cutoff, **options),
        "field history": prune_field_history(now, **options),
        "task results": prune_task_results(logs_cutoff, **options),
    }


def cutoff(setting, now):
    """``now`` minus the setting's days; None when the setting is None (keep for ever)."""
    days = get_setting(setting)
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ImproperlyConfigured(f"WAGTAIL_EASYCARS[{setting!r}] must be days (1 or more) or None: {days!r}")
    return now - timedelta(days=days)


def prune_sync_logs(before, *, dry_run=False, batch_size=BATCH_SIZE):
    """Sync logs started before ``before``, except the latest run of each kind per dealership."""
    if before is None:
        return 0
    return delete_in_batches(expired_sync_logs(before), dry_run=dry_run, batch_size=batch_size)


def expired_sync_logs(before):
    """The logs to delete: old, and not the newest of their (dealership, sync type)."""
    latest = (
        SyncLog.objects.filter(dealership=OuterRef("dealership"), sync_type=OuterRef("sync_type"))
        .order_by("-started_at", "-pk")
        .values("pk")[:1]
    )
    return SyncLog.objects.filter(started_at__lt=before).exclude(pk=Subquery(latest))


def prune_task_results(before, *, dry_run=False, batch_size=BATCH_SIZE):
    """The package's own django-q2 task results that stopped before ``before`` (SYNC_LOG_RETENTION_DAYS)."""
    if before is None:
        return 0
    return delete_in_batches(jobs.expired_task_results(before), dry_run=dry_run, batch_size=batch_size)


def prune_field_history(now, *, dry_run=False, batch_size=BATCH_SIZE):
    """Field changes past FIELD_HISTORY_RETENTION_DAYS; vehicle price changes past PRICE_HISTORY_RETENTION_DAYS.

    Price rows are kept for the longer of the two, so a site that raises only the general retention
    never loses price history sooner than the rest.
    """
    others = cutoff("FIELD_HISTORY_RETENTION_DAYS", now)
    if others is None:
        return 0
    options = {"dry_run": dry_run, "batch_size": batch_size}
    price_rows = {"vehicle__isnull": False, "field__in": PRICE_FIELDS}
    rest = FieldChange.objects.filter(changed_at__lt=others).exclude(**price_rows)
    deleted = delete_in_batches(rest, **options)
    price_cutoff = cutoff("PRICE_HISTORY_RETENTION_DAYS", now)
    if price_cutoff is None:
        return deleted
    prices = FieldChange.objects.filter(changed_at__lt=min(price_cutoff, others), **price_rows)
    return deleted + delete_in_batches(prices, **options)


def delete_in_batches(queryset, *, dry_run=False, batch_size=BATCH_SIZE):
    """Delete ``queryset``'s rows ``batch_size`` primary keys at a time, one transaction each; returns how many."""
    if dry_run:
        return queryset.count()
    model = queryset.model
    deleted, last = 0, None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic():
            # only("pk"): the collector loads the rows to null the foreign keys pointing at them.
            _, per_model = model.objects.filter(pk__in=ids).only("pk").delete()
        deleted += per_model.get(model._meta.label, 0)
        last = ids[-1]
