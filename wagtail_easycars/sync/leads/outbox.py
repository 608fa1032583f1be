"""The lead outbox: a lead that must reach EasyCars is marked pending in the same save.

``pre_save`` decides, from the values being saved, whether the lead needs a push; the mark is
written by that very save, so it commits or rolls back with the lead itself. ``post_save``
then asks for the push task with ``transaction.on_commit`` (ids only), so the task never runs
for a lead that was rolled back and the request that saved the lead never waits for EasyCars.
If the enqueue is lost (broker down, worker crash), the periodic sweeper finds the pending lead.
"""

import logging

from django.db import transaction

from ... import jobs
from ...models import EasyCarsCredential, Lead
from .mapping import lead_values, unsynced_fields

logger = logging.getLogger("wagtail_easycars.leads")

#: Leads from these sources are ours to send; "easycars" leads came from EasyCars.
OUTBOUND_SOURCES = (Lead.DataSource.MANUAL, Lead.DataSource.WEBFORM)
#: Written only by the sync (with queryset updates). An editor's form holds values read before
#: a push finished; saving them would erase the LeadNumber and send the lead twice.
SYNC_OWNED_FIELDS = (
    "sync_state",
    "sync_error",
    "sync_attempts",
    "push_started_at",
    "reconcile_misses",
    "reconcile_checked_at",
    "synced_values",
    "reconcile_after",
    "create_unresolved",
    "resend_confirmed",
    "unsendable_fields",
    "easycars_raw_data",
    "last_synced_to_easycars",
    "last_synced_from_easycars",
)


def is_unsent(lead):
    """A lead that originated here, that EasyCars has not got yet and nobody has queued."""
    return (
        lead.data_source in OUTBOUND_SOURCES
        and not lead.easycars_lead_number
        and lead.sync_state == Lead.SyncState.NOT_APPLICABLE
    )


def needs_create(lead):
    """An unsent lead (:func:`is_unsent`) whose dealership has EasyCars credentials to send it with."""
    return is_unsent(lead) and EasyCarsCredential.objects.filter(dealership_id=lead.dealership_id).exists()


def has_unsynced_changes(lead):
    """A lead EasyCars has, whose synced fields differ from what EasyCars last acknowledged."""
    if not lead.easycars_lead_number or not lead.synced_values:
        return False
    return bool(unsynced_fields(lead_values(lead), lead.synced_values, lead.unsendable_fields))


def mark_lead_pending(sender, instance, raw=False, **kwargs):
    if raw:  # loaddata: store exactly what the fixture says
        return
    if instance.pk is not None:
        _reload_sync_owned_fields(instance)
    if instance.sync_state in (Lead.SyncState.PENDING, Lead.SyncState.FAILED):
        # Already queued, or waiting for an editor to fix and retry it (see sync.leads.retry_lead).
        return
    if needs_create(instance) or has_unsynced_changes(instance):
        instance.sync_state = Lead.SyncState.PENDING
        instance._easycars_enqueue = True


def _reload_sync_owned_fields(instance):
    stored = (
        Lead.objects.filter(pk=instance.pk)
        .values(*SYNC_OWNED_FIELDS, "easycars_lead_number", "easycars_customer_no")
        .first()
    )
    if stored is None:  # a new lead with a preset pk
        return
    for field in SYNC_OWNED_FIELDS:
        setattr(instance, field, stored[field])
    # The numbers EasyCars gave are kept; an editor may only fill them in while they are empty.
    for field in ("easycars_lead_number", "easycars_customer_no"):
        if stored[field]:
            setattr(instance, field, stored[field])


def enqueue_pending_lead(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or not getattr(instance, "_easycars_enqueue", False):
        return
    instance._easycars_enqueue = False
    if update_fields is not None and "sync_state" not in update_fields:
        # save(update_fields=[...]) did not write the mark: write it in the same transaction.
        Lead.objects.filter(pk=instance.pk).update(sync_state=Lead.SyncState.PENDING)
    lead_id = instance.pk
    transaction.on_commit(lambda: enqueue_push(lead_id))


def enqueue_push(lead_id, *, user_id=None):
    """Queue the push task. A failure here is logged, not raised: the sweeper will retry."""
    args = (lead_id,) if user_id is None else (lead_id, user_id)
    try:
        jobs.enqueue(jobs.PUSH_LEAD, *args, name=f"push-lead:{lead_id}")
    except Exception:  # noqa: BLE001 - the visitor's save already succeeded; the sweeper catches up
        logger.exception("Could not queue the EasyCars push of lead %s; the sweeper will retry it.", lead_id)
