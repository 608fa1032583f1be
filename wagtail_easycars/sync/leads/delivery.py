"""Outbound leads: every pending lead reaches EasyCars exactly once.

The entry points: :func:`push_lead` (the task the outbox queues), :func:`push_pending_leads`
(a dealership's backlog, with bounded concurrency) and :func:`retry_lead` (the admin's "Retry
sync"). The phases of a push are in :mod:`.push`, the reconciliation of a lost CreateLead
answer in :mod:`.reconcile`; docs/leads.md explains the guarantees.
"""

import logging
from concurrent.futures import ThreadPoolExecutor, wait

from django.db import transaction
from django.utils.module_loading import import_string

from ...client.http import EasyCarsClient
from ...conf import get_setting
from ...models import Lead, SyncLog
from ..accounts import client_for
from .outbox import enqueue_push, needs_create
from .push import (
    CredentialsUnreadable,
    LeadPush,
    PushContext,
    claimed_lead_ids,
    drop_backoff,
    prepare_pushes,
    record_pushes,
    retry_delay,
)
from .reconcile import Reconciliation, UnresolvedCreate, reconcile_create

logger = logging.getLogger("wagtail_easycars.leads")


def vehicle_public_url(vehicle):
    """The public page of ``vehicle`` for ``VehicleSourcePageURL``, or ``None``.

    ``WAGTAIL_EASYCARS["VEHICLE_URL_FUNCTION"]`` (a dotted path) wins; otherwise the showroom's
    ``wagtail_easycars.showroom.vehicle_public_url``. A failing hook never stops a lead from
    being sent: the URL is optional.
    """
    if vehicle is None:
        return None
    path = get_setting("VEHICLE_URL_FUNCTION") or "wagtail_easycars.showroom.vehicle_public_url"
    try:
        function = import_string(path)
    except ImportError:
        logger.warning("VEHICLE_URL_FUNCTION %r cannot be imported; leads are sent without a page URL.", path)
        return None
    try:
        url = function(vehicle)
    except Exception:  # noqa: BLE001 - optional data; the lead matters more
        logger.exception("VEHICLE_URL_FUNCTION failed for vehicle %s; sending the lead without its URL.", vehicle.pk)
        return None
    return str(url) if url else None


def new_context():
    return PushContext(vehicle_url=vehicle_public_url)


def push_lead(lead_id, *, client=None, trigger=SyncLog.Trigger.EVENT, user=None):
    """Push one pending lead now. Returns the outcome: "sent", "reconciled", "failed", "retry",
    "waiting", "resend" (see :meth:`LeadPush.record`), or why nothing was sent ("skipped", "busy",
    "paused", "not_applicable")."""
    dealership_id = Lead.objects.filter(pk=lead_id).values_list("dealership_id", flat=True).first()
    if dealership_id is None:
        return "skipped"
    context = new_context()
    # Undecryptable credentials are recorded on the lead by prepare_pushes (no pushes come back).
    pushes, skipped = prepare_pushes(dealership_id, [lead_id], context=context, trigger=trigger, user=user)
    if not pushes:
        return next(iter(skipped), "skipped")
    own_client = client is None
    if own_client:
        client = EasyCarsClient(context.account(dealership_id))
    try:
        pushes[0].send(client)
    finally:
        if own_client:
            client.close()
    return next(iter(record_pushes(pushes, context=context)))


def retry_lead(lead, user=None):
    """The admin's "Retry sync": queue a failed (or waiting) lead to be sent again at once.

    Also the admin's "Send to EasyCars" for a lead saved here while the dealership had no
    EasyCars credentials ("not applicable"), once it has them.

    Clears the failure, so an editor's fix is what gets sent. A lead held because an earlier
    create could not be reconciled is re-sent without checking again: the editor has confirmed
    that EasyCars does not have it. A pending lead still waiting to confirm that EasyCars did not
    receive an earlier create is not sent early: its push looks again when the quiet period ends.
    The push runs in a worker after the current transaction commits, never in the request.
    Returns True when the lead was queued.
    """
    lead.refresh_from_db()
    if lead.sync_state == Lead.SyncState.NOT_APPLICABLE:
        # Saved while the dealership had no credentials: sent now that it has them.
        if not needs_create(lead):
            return False
    elif lead.sync_state not in (Lead.SyncState.FAILED, Lead.SyncState.PENDING):
        return False
    changes = {"sync_state": Lead.SyncState.PENDING, "sync_error": ""}
    if lead.sync_state == Lead.SyncState.FAILED and lead.create_unresolved:
        changes |= {"create_unresolved": False, "resend_confirmed": True}
    Lead.objects.filter(pk=lead.pk).update(**changes)
    # A retry back-off no longer applies: the editor wants it now.
    drop_backoff(lead.pk)
    user_id = user.pk if user is not None and user.is_authenticated else None
    transaction.on_commit(lambda: enqueue_push(lead.pk, user_id=user_id))
    lead.refresh_from_db()
    return True


def pending_leads(dealership, *, include_backoff=False):
    """The dealership's pending leads that no push is handling, oldest first.

    ``include_backoff`` also returns leads waiting for a retry (a manual sync tries them now).
    """
    claimed = claimed_lead_ids([dealership.pk], include_backoff=not include_backoff)
    leads = Lead.objects.filter(dealership=dealership, sync_state=Lead.SyncState.PENDING).order_by("created_at", "pk")
    return [pk for pk in leads.values_list("pk", flat=True) if pk not in claimed]


def push_pending_leads(dealership, *, client=None, trigger=SyncLog.Trigger.SCHEDULE, user=None):
    """Push every pending lead of a dealership, LEAD_PUSH_CONCURRENCY requests at a time.

    Leads go in batches: a batch is claimed and prepared in one transaction, its HTTP calls run
    in a thread pool while the previous batch's outcomes are recorded (in one transaction).
    Only HTTP runs in the pool, so this works on SQLite as well as PostgreSQL. Returns
    ``{outcome: count}``.
    """
    outcomes = {}

    def add(counts):
        for outcome, count in counts.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count

    ids = pending_leads(dealership, include_backoff=trigger != SyncLog.Trigger.SCHEDULE)
    if not ids:
        return outcomes
    context = new_context()
    own_client = client is None
    if own_client:
        try:
            client = EasyCarsClient(context.account(dealership.pk))
        except CredentialsUnreadable:
            # Nothing can be sent: prepare_pushes keeps every lead pending with the reason and a back-off.
            return prepare_pushes(dealership.pk, ids, context=context, trigger=trigger, user=user)[1]
    size = max(1, get_setting("LEAD_PUSH_CONCURRENCY"))
    try:
        with ThreadPoolExecutor(max_workers=size, thread_name_prefix="easycars-push") as pool:
            in_flight = None
            for start in range(0, len(ids), size * 2):
                batch = ids[start : start + size * 2]
                pushes, skipped = prepare_pushes(dealership.pk, batch, context=context, trigger=trigger, user=user)
                add(skipped)
                futures = [pool.submit(push.send, client) for push in pushes]
                if in_flight is not None:  # record the previous batch while this one is on the wire
                    wait(in_flight[1])
                    add(record_pushes(in_flight[0], context=context))
                in_flight = (pushes, futures)
            if in_flight is not None:
                wait(in_flight[1])
                add(record_pushes(in_flight[0], context=context))
    finally:
        if own_client:
            client.close()
    return outcomes


__all__ = [
    "CredentialsUnreadable",
    "LeadPush",
    "Reconciliation",
    "UnresolvedCreate",
    "client_for",
    "pending_leads",
    "push_lead",
    "push_pending_leads",
    "reconcile_create",
    "retry_delay",
    "retry_lead",
    "vehicle_public_url",
]
