"""Lead sync runs: push what is pending, then refresh from EasyCars; plus the sweeper.

The task functions in :mod:`wagtail_easycars.tasks` call these with ids only.
"""

import logging
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ... import jobs
from ...client.http import EasyCarsClient
from ...conf import get_setting
from ...models import Dealership, EasyCarsCredential, Lead, SyncLog
from .. import runs
from .delivery import claimed_lead_ids, push_pending_leads
from .outbox import enqueue_push
from .push import CredentialsUnreadable, readable_account
from .refresh import RefreshStopped, refresh_leads

logger = logging.getLogger("wagtail_easycars.leads")


def request_lead_sync(dealership, *, user=None, trigger=SyncLog.Trigger.MANUAL):
    """Start a lead sync for ``dealership`` (or join the running one): ``(SyncLog, started)``.

    The run itself is queued after the current transaction commits.
    """
    return runs.request_run(dealership, SyncLog.SyncType.LEAD, jobs.RUN_LEAD_SYNC, trigger=trigger, user=user)


def run_lead_sync(log_id):
    """Run a started lead sync: push the dealership's pending leads, then refresh inbound."""
    log = runs.claim_queued_run(log_id)
    if log is None:
        return None
    recorder = runs.RunRecorder(log)
    dealership = log.dealership
    credential = EasyCarsCredential.objects.filter(dealership=dealership).first()
    if credential is None or not credential.is_configured:
        return recorder.finish(error_message=_("This dealership has no EasyCars credentials."))
    if not credential.is_active:
        return recorder.finish(error_message=_("EasyCars syncing is turned off for this dealership."))
    trigger = log.trigger if log.trigger != SyncLog.Trigger.EVENT else SyncLog.Trigger.SCHEDULE
    try:
        account = readable_account(credential)
    except CredentialsUnreadable as exc:
        # Nothing can be sent or refreshed; the leads keep their state (their own pushes back off).
        return recorder.finish(error_message=str(exc))
    try:
        with EasyCarsClient(account) as client:
            pushed = push_pending_leads(dealership, client=client, trigger=trigger, user=log.triggered_by)
            recorder.flush(force=True)
            log.response_summary = {"pushed": pushed}
            _warn_about_pushes(recorder, pushed)
            refresh_leads(dealership, client, recorder, sync_log=log)
    except RefreshStopped as exc:
        return recorder.finish(error_message=str(exc))
    except Exception as exc:  # noqa: BLE001 - the run's log says what went wrong; the lease is released
        logger.exception("Lead sync %s for %s failed", log.pk, dealership.slug)
        return recorder.fail(exc)
    log.request_payload = {"operation": "GetLeadDetail", "leads": log.records_total}
    return recorder.finish()


def _warn_about_pushes(recorder, pushed):
    """The run's warnings for leads EasyCars refused and leads left for a retry."""
    if failed := pushed.get("failed"):
        recorder.add_warning(
            ngettext(
                "%(count)s lead was refused by EasyCars; see the leads list.",
                "%(count)s leads were refused by EasyCars; see the leads list.",
                failed,
            )
            % {"count": failed}
        )
    if retry := pushed.get("retry"):
        recorder.add_warning(
            ngettext(
                "%(count)s lead could not be sent yet and will be retried.",
                "%(count)s leads could not be sent yet and will be retried.",
                retry,
            )
            % {"count": retry}
        )
    if waiting := pushed.get("waiting"):
        recorder.add_warning(
            ngettext(
                "%(count)s lead is waiting to confirm EasyCars did not receive it; it is sent again only if not.",
                "%(count)s leads are waiting to confirm EasyCars did not receive them; they are sent again only "
                "if not.",
                waiting,
            )
            % {"count": waiting}
        )


def syncing_dealerships():
    """Dealerships with EasyCars syncing turned on."""
    return Dealership.objects.filter(easycars_credential__is_active=True)


def sync_all_leads():
    """The hourly schedule: a lead sync for every dealership with syncing turned on."""
    started = 0
    for dealership in syncing_dealerships():
        if not dealership.easycars_credential.is_configured:
            continue
        _, did_start = request_lead_sync(dealership, trigger=SyncLog.Trigger.SCHEDULE)
        started += int(did_start)
    return started


def sweep_pending_leads():
    """Re-queue pending leads whose push vanished (lost enqueue, killed worker, lost retry schedule).

    A lead is left alone while a push holds its claim or its retry back-off runs, and for
    LEAD_SWEEP_GRACE_SECONDS after its last save, while its own task is most likely queued.
    A duplicate task is harmless: the push claims the lead and skips one that is not pending.
    """
    dealership_ids = list(syncing_dealerships().values_list("pk", flat=True))
    claimed = claimed_lead_ids(dealership_ids)
    cutoff = timezone.now() - timedelta(seconds=get_setting("LEAD_SWEEP_GRACE_SECONDS"))
    pending = Lead.objects.filter(
        dealership_id__in=dealership_ids, sync_state=Lead.SyncState.PENDING, updated_at__lte=cutoff
    ).values_list("pk", flat=True)
    queued = 0
    for lead_id in pending:
        if lead_id not in claimed:
            enqueue_push(lead_id)
            queued += 1
    return queued
