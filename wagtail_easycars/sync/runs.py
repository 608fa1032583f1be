"""The life of a sync run: one per dealership and kind at a time, recorded in a SyncLog.

A run holds a lease row (SyncLease) while it works. The lease is taken with a conditional UPDATE
on the database clock, so it works on every database and across machines; a worker that dies
stops renewing it, the lease expires, and the next run marks the dead run failed.
"""

import time
import traceback
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from .. import jobs
from ..conf import get_setting
from ..models import Dealership, SyncLease, SyncLog

PROGRESS_INTERVAL = 1.0  # seconds between progress writes; the dashboard polls every few seconds
MAX_RECORDED_FAILURES = 500  # keep sync logs readable and bounded for a pathological feed


def _lease_ttl():
    return timedelta(seconds=get_setting("SYNC_LEASE_SECONDS"))


def _lease_row(dealership, kind):
    try:
        with transaction.atomic():
            return SyncLease.objects.get_or_create(dealership=dealership, kind=kind)[0]
    except IntegrityError:  # created concurrently
        return SyncLease.objects.get(dealership=dealership, kind=kind)


def running_log(dealership, sync_type):
    """The run currently holding the lease for this dealership and kind, or None."""
    lease = (
        SyncLease.objects.filter(dealership=dealership, kind=sync_type, lease_until__gt=Now())
        .select_related("sync_log")
        .first()
    )
    if lease and lease.sync_log and lease.sync_log.status == SyncLog.Status.IN_PROGRESS:
        return lease.sync_log
    return None


def _stamp_completed(log):
    log.completed_at = max(timezone.now(), log.started_at)
    log.duration_ms = int((log.completed_at - log.started_at).total_seconds() * 1000)


def recover_dead_runs(dealership, sync_type):
    """Mark runs of this kind still in progress as failed: their worker died. Returns how many.

    Call it only while holding the lease with no log of your own yet (as :func:`begin_run` does):
    then no in-progress run can be alive.
    """
    dead = SyncLog.objects.filter(dealership=dealership, sync_type=sync_type, status=SyncLog.Status.IN_PROGRESS)
    count = 0
    for log in dead:
        log.status = SyncLog.Status.FAILED
        _stamp_completed(log)
        log.error_message = "The worker running this sync stopped before finishing (it was killed or timed out)."
        last_seen = log.heartbeat_at or log.started_at
        log.error_details = f"No progress was recorded after {last_seen.isoformat()}; a later run recovered it."
        log.save(update_fields=["status", "completed_at", "duration_ms", "error_message", "error_details"])
        count += 1
    return count


def begin_run(dealership, sync_type, direction, *, trigger=SyncLog.Trigger.SCHEDULE, user=None, credential=None):
    """Start a run, or join the one already going.

    Returns ``(log, started)``: ``started`` is False when another run holds the lease, and
    ``log`` is then that run's SyncLog.
    """
    # One transaction: a concurrent trigger waits on the lease row until this run's log exists
    # (then joins it), and the run's start costs one commit instead of three.
    with transaction.atomic():
        return _begin_run(dealership, sync_type, direction, trigger=trigger, user=user, credential=credential)


def _begin_run(dealership, sync_type, direction, *, trigger, user, credential):
    token = uuid.uuid4().hex
    lapsed = Q(lease_until__isnull=True) | Q(lease_until__lte=Now())
    take = {"owner": token, "lease_until": Now() + _lease_ttl(), "sync_log": None}
    # Usually the lease row exists and the last run released it (``finish`` saves its log and
    # releases the lease in one transaction): one UPDATE takes it, and no run can have been left
    # in progress. Otherwise (a first run, or a lease that expired) the row is found or created,
    # taken, and runs left in progress are recovered below.
    released = Q(lease_until__isnull=True, owner="", sync_log__isnull=False)
    acquired = SyncLease.objects.filter(released, dealership=dealership, kind=sync_type).update(**take)
    after_clean_release = bool(acquired)
    if not acquired:
        lease = _lease_row(dealership, sync_type)
        acquired = SyncLease.objects.filter(lapsed, pk=lease.pk).update(**take)
    if not acquired:
        current = running_log(dealership, sync_type)
        if current is not None:
            return current, False
        # The holder has not created its log yet; report the most recent run of this kind.
        latest = SyncLog.objects.filter(dealership=dealership, sync_type=sync_type).first()
        if latest is not None:
            return latest, False
        raise RuntimeError("Another process is starting a sync for this dealership; try again in a moment.")
    # This run holds the lease and has no log yet, so any run of this kind still in progress lost
    # its lease: its worker died.
    if not after_clean_release:
        recover_dead_runs(dealership, sync_type)
    now = timezone.now()
    if credential is None:
        credential = getattr(dealership, "easycars_credential", None)
    log = SyncLog.objects.create(
        dealership=dealership,
        credential=credential,
        sync_type=sync_type,
        direction=direction,
        trigger=trigger,
        triggered_by=user if user is not None and user.is_authenticated else None,
        started_at=now,
        heartbeat_at=now,
    )
    SyncLease.objects.filter(dealership=dealership, kind=sync_type, owner=token).update(sync_log=log)
    return log, True


def holds_lease(log):
    return SyncLease.objects.filter(
        dealership_id=log.dealership_id, kind=log.sync_type, sync_log=log, lease_until__gt=Now()
    ).exists()


def request_run(dealership, sync_type, task, *, trigger=SyncLog.Trigger.MANUAL, user=None):
    """Begin an inbound run (or join the running one) and queue ``task(log_id)`` on commit.

    ``dealership`` is a Dealership or its id. Returns ``(SyncLog, started)`` as :func:`begin_run`.
    """
    if not isinstance(dealership, Dealership):
        dealership = Dealership.objects.get(pk=dealership)
    log, started = begin_run(dealership, sync_type, SyncLog.Direction.INBOUND, trigger=trigger, user=user)
    if started:
        log_id = log.pk
        transaction.on_commit(lambda: _enqueue_run(task, log_id, sync_type))
    return log, started


def _enqueue_run(task, log_id, sync_type):
    try:
        task_id = jobs.enqueue(task, log_id, name=f"{sync_type}-sync:{log_id}", timeout=get_setting("TASK_TIMEOUT"))
    except Exception as exc:  # noqa: BLE001 - broker unreachable: close the run rather than leave it waiting
        log = SyncLog.objects.filter(pk=log_id, status=SyncLog.Status.IN_PROGRESS).first()
        if log is not None:
            RunRecorder(log).fail(exc, message="The sync could not be queued; is the task queue running?")
        return
    if isinstance(task_id, str):
        SyncLog.objects.filter(pk=log_id).update(task_id=task_id[:64])


def claim_queued_run(log_id):
    """The queued run ``log_id`` ready to work, or None when there is nothing to do.

    None when the run is gone or already closed (finished, recovered as dead, a redelivered task).
    A run that waited in the queue longer than its lease lasts is replaced by a fresh one, unless
    another run is already going (then that run does the work).
    """
    log = SyncLog.objects.select_related("dealership").filter(pk=log_id).first()
    if log is None or log.status != SyncLog.Status.IN_PROGRESS:
        return None
    if holds_lease(log):
        return log
    mark_superseded(log)
    log, started = begin_run(log.dealership, log.sync_type, log.direction, trigger=log.trigger, user=log.triggered_by)
    return log if started else None


class RunRecorder:
    """Records progress, failures and the outcome of one run into its SyncLog.

    Counters are kept in memory and written (with a lease renewal) at most once per second,
    so progress costs a handful of queries whatever the size of the feed.
    """

    COUNTERS = (
        "records_total",
        "records_processed",
        "records_created",
        "records_updated",
        "records_unchanged",
        "records_failed",
        "records_delisted",
        "records_relisted",
        "images_downloaded",
        "images_reused",
        "images_failed",
    )

    def __init__(self, log, *, just_begun=False):
        """``just_begun``: :func:`begin_run` has just written the log and the lease, so the first
        progress write can wait its interval like the others (a short run then makes none)."""
        self.log = log
        self._last_flush = time.monotonic() if just_begun else 0.0

    def count(self, name, n=1):
        setattr(self.log, name, getattr(self.log, name) + n)

    def set_total(self, total):
        self.log.records_total = total
        self.flush()

    def add_failure(self, kind, ref, message):
        """Record an isolated failure (an item, an image, a field). Never raises."""
        failures = self.log.item_failures
        if len(failures) < MAX_RECORDED_FAILURES:
            failures.append({"kind": kind, "ref": str(ref)[:200], "message": str(message)[:1000]})
        elif len(failures) == MAX_RECORDED_FAILURES:
            failures.append({"kind": "note", "ref": "", "message": "Further failures were not recorded."})

    def add_warning(self, message):
        self.log.warnings.append(str(message)[:1000])

    def flush(self, force=False):
        """Write progress counters and renew the lease (throttled unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._last_flush < PROGRESS_INTERVAL:
            return
        self._last_flush = now
        values = {name: getattr(self.log, name) for name in self.COUNTERS}
        SyncLog.objects.filter(pk=self.log.pk).update(heartbeat_at=Now(), **values)
        SyncLease.objects.filter(
            dealership_id=self.log.dealership_id, kind=self.log.sync_type, sync_log_id=self.log.pk
        ).update(lease_until=Now() + _lease_ttl())

    def finish(self, *, error_message="", error_details="", status=None):
        """Close the run: status, counts, duration; release the lease. Returns the SyncLog."""
        log = self.log
        if status is None:
            if error_message:
                status = SyncLog.Status.FAILED
            elif log.records_failed or log.images_failed or log.item_failures or log.warnings:
                status = SyncLog.Status.WARNING
            else:
                status = SyncLog.Status.SUCCESS
        log.status = status
        log.error_message = str(error_message)[:2000]
        log.error_details = str(error_details)[:20000]
        _stamp_completed(log)
        log.heartbeat_at = log.completed_at
        with transaction.atomic(savepoint=False):  # within a caller's transaction, no savepoint either
            log.save()
            SyncLease.objects.filter(dealership_id=log.dealership_id, kind=log.sync_type, sync_log_id=log.pk).update(
                lease_until=None, owner=""
            )
        return log

    def fail(self, exc, message=None):
        """Close the run as failed because of ``exc`` (message for editors, details for developers)."""
        details = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return self.finish(error_message=message or str(exc) or type(exc).__name__, error_details=details)


def mark_superseded(log):
    """A queued run whose lease was taken by another run before it started."""
    SyncLog.objects.filter(pk=log.pk, status=SyncLog.Status.IN_PROGRESS).update(
        status=SyncLog.Status.FAILED,
        completed_at=Now(),
        error_message="This run was replaced by a newer run before it could start.",
    )
