"""Outbound lead pushes: every pending lead reaches EasyCars exactly once.

A push has three phases so that many can share one run: :meth:`LeadPush.prepare` (database:
claim the lead, build the request, note that a create is about to be sent), :meth:`LeadPush.send`
(HTTP only, safe in a thread) and :meth:`LeadPush.record` (database: store the outcome, log it,
schedule a retry). See docs/leads.md for the delivery guarantees and the reconciliation of a
CreateLead whose answer was lost.
"""

import logging
import random
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.module_loading import import_string

from ..conf import get_setting
from ..models import EasyCarsCredential, Lead, SyncLease, SyncLog
from .client import EasyCarsClient, redact
from .errors import (
    EasyCarsApiError,
    EasyCarsAuthenticationError,
    EasyCarsCircuitOpen,
    EasyCarsOutcomeUnknown,
    EasyCarsUnavailableError,
)
from .lead_mapping import (
    LeadMappingError,
    build_create_request,
    build_update_request,
    lead_values,
    vehicle_facts,
)
from .outbox import enqueue_push, has_unsynced_changes

logger = logging.getLogger("wagtail_easycars.leads")

#: SyncLease kind of the per-lead claim (the lease table's kind column holds 20 characters).
CLAIM_PREFIX = "push:"
#: Owner of a claim that only holds a lead back until its next retry.
BACKOFF_OWNER = "backoff"
RETRY_SCHEDULE_PREFIX = "wagtail_easycars:lead-retry:"


# Hooks ---------------------------------------------------------------------------------------


def vehicle_public_url(vehicle):
    """The public page of ``vehicle`` for ``VehicleSourcePageURL``, or ``None``.

    ``WAGTAIL_EASYCARS["VEHICLE_URL_FUNCTION"]`` (a dotted path) wins; otherwise the showroom's
    ``wagtail_easycars.showroom.vehicle_public_url`` is used when it exists. A failing hook never
    stops a lead from being sent: the URL is optional.
    """
    if vehicle is None:
        return None
    path = get_setting("VEHICLE_URL_FUNCTION") or "wagtail_easycars.showroom.vehicle_public_url"
    try:
        function = import_string(path)
    except ImportError:
        return None
    try:
        url = function(vehicle)
    except Exception:  # noqa: BLE001 - optional data; the lead matters more
        logger.exception("VEHICLE_URL_FUNCTION failed for vehicle %s; sending the lead without its URL.", vehicle.pk)
        return None
    return str(url) if url else None


def client_for(dealership):
    """An :class:`EasyCarsClient` using this dealership's own credentials."""
    return EasyCarsClient(dealership.easycars_credential.as_account())


# The per-lead claim ------------------------------------------------------------------------


def _claim_kind(lead_id):
    return f"{CLAIM_PREFIX}{lead_id}"


def claim_lead(lead):
    """Take the lead's claim; returns the owner token, or ``None`` when another push holds it.

    A claim held only for a retry back-off (``BACKOFF_OWNER``) is taken over by the retry itself.
    """
    kind = _claim_kind(lead.pk)
    try:
        with transaction.atomic():
            row = SyncLease.objects.get_or_create(dealership_id=lead.dealership_id, kind=kind)[0]
    except IntegrityError:
        row = SyncLease.objects.get(dealership_id=lead.dealership_id, kind=kind)
    token = uuid.uuid4().hex
    free = Q(lease_until__isnull=True) | Q(lease_until__lte=Now()) | Q(owner=BACKOFF_OWNER)
    ttl = timedelta(seconds=get_setting("SYNC_LEASE_SECONDS"))
    taken = SyncLease.objects.filter(free, pk=row.pk).update(owner=token, lease_until=Now() + ttl)
    return token if taken else None


def release_claim(lead_id, token, *, retry_in=None):
    claims = SyncLease.objects.filter(kind=_claim_kind(lead_id), owner=token)
    if retry_in is None:
        claims.delete()
    else:
        claims.update(owner=BACKOFF_OWNER, lease_until=Now() + retry_in)


def claimed_lead_ids(dealership_ids=None, *, include_backoff=True):
    """Ids of leads whose push is running (or, with ``include_backoff``, waiting for its back-off)."""
    leases = SyncLease.objects.filter(kind__startswith=CLAIM_PREFIX, lease_until__gt=Now())
    if not include_backoff:
        leases = leases.exclude(owner=BACKOFF_OWNER)
    if dealership_ids is not None:
        leases = leases.filter(dealership_id__in=dealership_ids)
    return {int(kind[len(CLAIM_PREFIX) :]) for kind in leases.values_list("kind", flat=True)}


def retry_delay(attempts):
    """Back-off before attempt ``attempts + 1``: doubling from LEAD_RETRY_INITIAL_DELAY, capped, jittered."""
    base = min(get_setting("LEAD_RETRY_MAX_DELAY"), get_setting("LEAD_RETRY_INITIAL_DELAY") * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def schedule_retry(lead_id, delay):
    """One django-q2 ONCE schedule per lead (replaced, never duplicated); the sweeper is the safety net."""
    from django_q.models import Schedule

    name = f"{RETRY_SCHEDULE_PREFIX}{lead_id}"
    Schedule.objects.filter(name=name).delete()
    Schedule.objects.create(
        name=name,
        func="wagtail_easycars.tasks.push_lead",
        args=repr((lead_id,)),
        schedule_type=Schedule.ONCE,
        repeats=-1,
        next_run=timezone.now() + delay,
    )


# One push ------------------------------------------------------------------------------------


class LeadPush:
    """Sends one pending lead: CreateLead the first time, UpdateLead with what changed later."""

    def __init__(self, lead_id, *, trigger=SyncLog.Trigger.EVENT, user=None, confirm_resend=False):
        self.lead_id = lead_id
        self.trigger = trigger
        self.user = user
        #: An editor confirmed that a lead whose create could not be reconciled may be sent again.
        self.confirm_resend = confirm_resend
        self.lead = None
        self.token = None
        self.operation = None
        self.request = None
        self.plan = None
        self.values = None
        self.result = None
        self.adopted = None
        self.error = None
        self.outcome = None
        self.reconcile = None
        self.resend_after_reconcile = False

    # Phase 1: database ------------------------------------------------------------------------

    def prepare(self):
        """Claim and build the request; returns False when there is nothing to send now."""
        lead = Lead.objects.select_related("dealership", "vehicle").filter(pk=self.lead_id).first()
        if lead is None or lead.sync_state != Lead.SyncState.PENDING:
            self.outcome = "skipped"
            return False
        credential = EasyCarsCredential.objects.filter(dealership_id=lead.dealership_id).first()
        if credential is None or not credential.is_configured:
            Lead.objects.filter(pk=lead.pk).update(
                sync_state=Lead.SyncState.NOT_APPLICABLE,
                sync_error="This dealership has no EasyCars credentials, so the lead is not sent.",
            )
            self.outcome = "not_applicable"
            return False
        if not credential.is_active:
            # Stays pending: the sweeper sends it once syncing is turned back on.
            Lead.objects.filter(pk=lead.pk).update(
                sync_error="EasyCars syncing is turned off for this dealership; the lead will be sent when it is "
                "turned back on."
            )
            self.outcome = "paused"
            return False
        self.token = claim_lead(lead)
        if self.token is None:
            self.outcome = "busy"
            return False
        lead.refresh_from_db()  # the claim is ours now: read the state it protects
        if lead.sync_state != Lead.SyncState.PENDING:
            self._release()
            self.outcome = "skipped"
            return False
        self.lead = lead
        self.values = lead_values(lead)
        try:
            if lead.easycars_lead_number:
                self._prepare_update()
            else:
                self._prepare_create()
        except LeadMappingError as exc:
            self.error = exc
        return True

    def _prepare_create(self):
        lead = self.lead
        self.operation = "CreateLead"
        url = vehicle_public_url(lead.vehicle)
        self.request = build_create_request(
            self.values,
            vehicle_facts(lead.vehicle, url),
            external_id=lead.external_id,
            customer_no=lead.easycars_customer_no,
        )
        known = self._known_lead_numbers()
        if lead.push_started_at and not self.confirm_resend:
            # An earlier attempt sent CreateLead and never learnt the outcome: check first.
            start = lead.synced_values.get("_reconcile_after") or ""
            self.reconcile = {"after": start, "known": known, "email": lead.email}
            return
        # Remember the highest lead number EasyCars had given us before this create: a lead it
        # creates now gets a later number, which bounds the search if the answer is lost.
        highest = max(known, key=lambda number: (len(number), number), default="")
        Lead.objects.filter(pk=lead.pk).update(push_started_at=Now(), synced_values={"_reconcile_after": highest})

    def _prepare_update(self):
        self.operation = "UpdateLead"
        self.plan = build_update_request(self.lead.easycars_lead_number, self.lead.synced_values, self.values)
        self.request = self.plan.request

    def _known_lead_numbers(self):
        numbers = Lead.objects.filter(dealership_id=self.lead.dealership_id, easycars_lead_number__isnull=False)
        return set(numbers.values_list("easycars_lead_number", flat=True))

    # Phase 2: HTTP only -----------------------------------------------------------------------

    def send(self, client):
        """Talk to EasyCars; never touches the database (safe to run in a worker thread)."""
        if self.error is not None:
            return
        try:
            if self.reconcile is not None:
                outcome = reconcile_create(client, self.lead.external_id, **self.reconcile)
                if outcome.found is not None:
                    self.adopted = outcome.found
                    return
                if not outcome.safe_to_resend:
                    self.error = UnresolvedCreate()
                    return
                self.resend_after_reconcile = True
            if self.request is None:
                return
            if self.operation == "CreateLead":
                self.result = client.create_lead(self.request)
            else:
                self.result = client.update_lead(self.request)
        except Exception as exc:  # noqa: BLE001 - recorded by record(); a thread must not die silently
            self.error = exc

    # Phase 3: database ------------------------------------------------------------------------

    def record(self):
        """Store the outcome; returns ``"sent"``, ``"failed"``, ``"retry"`` or ``"reconciled"``."""
        try:
            if isinstance(self.error, LeadMappingError | EasyCarsApiError | UnresolvedCreate):
                self.outcome = self._record_failure()
            elif self.error is not None:
                self.outcome = self._record_retry()
            elif self.adopted is not None:
                self.outcome = self._record_success(self.adopted.lead_number, self.adopted.customer_no, "reconciled")
            else:
                number = self.result.lead_number if self.result else self.lead.easycars_lead_number
                customer_no = self.result.customer_no if self.result else None
                self.outcome = self._record_success(number, customer_no, "sent")
        finally:
            if self.outcome != "retry":
                self._release()
        return self.outcome

    def _record_success(self, lead_number, customer_no, outcome):
        lead = self.lead
        now = timezone.now()
        if self.operation == "CreateLead":
            # CreateLead carries no status; assume EasyCars starts a lead as New (undocumented), so a
            # different local status follows as an UpdateLead.
            synced = {**self.values, "status": Lead.Status.NEW}
        else:
            synced = dict(self.plan.values)
            if self.plan.unsendable:
                synced["_unsendable"] = self.plan.unsendable
        notes = " ".join(self.plan.skipped) if self.plan else ""
        warning = getattr(self.result, "warning", None)
        if warning:
            notes = f"{notes} EasyCars warned: {warning}".strip()
        changes = {
            "easycars_lead_number": lead_number,
            "synced_values": synced,
            "sync_state": Lead.SyncState.SENT,
            "sync_error": notes,
            "sync_attempts": F("sync_attempts") + 1,
            "push_started_at": None,
            "last_synced_to_easycars": now,
        }
        if customer_no:
            changes["easycars_customer_no"] = customer_no
        try:
            with transaction.atomic():
                Lead.objects.filter(pk=lead.pk).update(**changes)
        except IntegrityError:
            # Another local lead already holds this LeadNumber: never merge two enquiries silently.
            self.error = EasyCarsApiError(
                f"EasyCars returned lead number {lead_number}, which another lead here already has."
            )
            return self._record_failure()
        self._log(SyncLog.Status.WARNING if notes else SyncLog.Status.SUCCESS, lead_number=lead_number, note=notes)
        lead.refresh_from_db()
        if lead.sync_state == Lead.SyncState.SENT and has_unsynced_changes(lead):
            # Edited while the push was in flight: send those changes too.
            Lead.objects.filter(pk=lead.pk, sync_state=Lead.SyncState.SENT).update(sync_state=Lead.SyncState.PENDING)
            transaction.on_commit(lambda: enqueue_push(lead.pk))
        return outcome

    def _record_failure(self):
        message = failure_message(self.error)
        Lead.objects.filter(pk=self.lead.pk).update(
            sync_state=Lead.SyncState.FAILED, sync_error=message, sync_attempts=F("sync_attempts") + 1
        )
        if isinstance(self.error, UnresolvedCreate):
            # Marks the one failure that "Retry sync" resolves by re-sending without checking.
            Lead.objects.filter(pk=self.lead.pk).update(synced_values={**self.lead.synced_values, "_unresolved": True})
        if isinstance(self.error, EasyCarsApiError) and self.operation == "CreateLead":
            # EasyCars answered with a refusal: this create made no lead. (An unresolved or
            # unmapped lead keeps push_started_at, so an earlier lost create is still checked.)
            Lead.objects.filter(pk=self.lead.pk).update(push_started_at=None)
        self._log(SyncLog.Status.FAILED, error=message)
        return "failed"

    def _record_retry(self):
        attempts = self.lead.sync_attempts + 1
        delay = retry_delay(attempts)
        when = timezone.localtime(timezone.now() + delay, self.lead.dealership.zoneinfo)
        message = (
            f"Not sent yet: {self.error} The next attempt is around {when:%H:%M} ({when.tzname()}); "
            "the lead is kept until EasyCars accepts it."
        )
        updates = {"sync_error": message[:2000], "sync_attempts": attempts}
        nothing_sent = (
            isinstance(self.error, EasyCarsUnavailableError | EasyCarsAuthenticationError)
            and not isinstance(self.error, EasyCarsOutcomeUnknown)
            and self.reconcile is None
        )
        if self.operation == "CreateLead" and nothing_sent:
            # The create never reached EasyCars (no connection, turned away, open breaker), so the
            # next attempt need not reconcile. Otherwise push_started_at stays and it will.
            updates["push_started_at"] = None
        Lead.objects.filter(pk=self.lead.pk).update(**updates)
        if not isinstance(self.error, EasyCarsCircuitOpen):  # nothing was sent: no log entry
            self._log(SyncLog.Status.FAILED, error=str(self.error))
        release_claim(self.lead.pk, self.token, retry_in=delay)
        schedule_retry(self.lead.pk, delay)
        return "retry"

    def _release(self):
        if self.token:
            release_claim(self.lead_id, self.token)
            self.token = None

    def _log(self, status, *, lead_number=None, error="", note=""):
        now = timezone.now()
        body = self.request.to_payload() if self.request is not None else None
        credential = EasyCarsCredential.objects.filter(dealership_id=self.lead.dealership_id).first()
        summary = {"lead": self.lead.pk, "external_id": str(self.lead.external_id), "operation": self.operation}
        if self.adopted is not None:
            summary["reconciled"] = True
        if lead_number:
            summary["LeadNumber"] = lead_number
            summary["CustomerNo"] = getattr(self.result or self.adopted, "customer_no", None)
        if note:
            summary["note"] = note
        SyncLog.objects.create(
            dealership_id=self.lead.dealership_id,
            credential=credential,
            sync_type=SyncLog.SyncType.LEAD,
            direction=SyncLog.Direction.OUTBOUND,
            status=status,
            trigger=self.trigger,
            triggered_by=self.user if self.user is not None and self.user.is_authenticated else None,
            started_at=now,
            completed_at=now,
            heartbeat_at=now,
            duration_ms=0,
            records_total=1,
            records_processed=1,
            records_created=int(self.operation == "CreateLead" and status != SyncLog.Status.FAILED),
            records_updated=int(self.operation == "UpdateLead" and status != SyncLog.Status.FAILED),
            records_failed=int(status == SyncLog.Status.FAILED),
            error_message=error[:2000],
            request_payload=redact({"operation": self.operation, "body": body}) if body else None,
            response_summary=summary,
        )


class UnresolvedCreate(Exception):
    """A lost CreateLead answer could not be matched to or ruled out of EasyCars' leads."""

    def __str__(self):
        return (
            "EasyCars may already have this enquiry: an earlier attempt timed out after sending it, and it could "
            "not be found or ruled out automatically. Check the customer's leads in EasyCars, then use "
            "'Retry sync' to send it again if it is not there."
        )


def failure_message(exc):
    if isinstance(exc, EasyCarsApiError):
        reason = exc.error_message or str(exc)
        return f"EasyCars refused the lead: {reason}. Correct the lead, then use 'Retry sync'."
    return str(exc)


# Reconciliation ------------------------------------------------------------------------------


@dataclass
class Reconciliation:
    #: The EasyCars lead carrying our ExternalID, when found.
    found: object = None
    #: True when the evidence says EasyCars never got the create, so sending it is safe.
    safe_to_resend: bool = False


def reconcile_create(client, external_id, *, after, known, email):
    """Find the EasyCars lead a lost CreateLead made, or show that none was made.

    1. GetLeadDetail of the lead numbers issued after the highest one we knew when the create
       was sent (LEAD_RECONCILE_WINDOW of them), looking for our ExternalID: found means adopt.
    2. Not found: SearchContacts by the lead's email. No such customer means EasyCars never
       processed the create (it creates or reuses a customer for every lead), so a re-send is
       safe. An existing customer is ambiguous (a returning customer, or a lead beyond the
       window): the lead is left for an editor to check (see docs/leads.md).

    EasyCarsUnavailableError propagates: reconciling needs EasyCars as much as sending does.
    """
    found = _scan_candidates(client, external_id, after, known)
    if found is not None:
        return Reconciliation(found=found)
    if email:
        wanted = email.strip().lower()
        contacts = client.search_contacts(email=email.strip())
        if not any(contact.email.strip().lower() == wanted for contact in contacts):
            return Reconciliation(safe_to_resend=True)
    return Reconciliation()


def _scan_candidates(client, external_id, after, known):
    """GetLeadDetail of the lead numbers after ``after`` that we do not know, looking for our ExternalID."""
    width = len(after) if after else 6
    start = int(after) + 1 if after.isdigit() else 1
    wanted = str(external_id).lower()
    for number in range(start, start + get_setting("LEAD_RECONCILE_WINDOW")):
        lead_number = f"{number:0{width}d}"
        if lead_number in known:
            continue
        try:
            detail = client.get_lead_detail(lead_number)
        except (EasyCarsApiError, EasyCarsAuthenticationError):
            continue  # not found, or not ours to read (another lead source's lead)
        if (detail.external_id or "").strip().lower() == wanted:
            return detail
    return None


# Entry points --------------------------------------------------------------------------------


def push_lead(lead_id, *, client=None, trigger=SyncLog.Trigger.EVENT, user=None, confirm_resend=False):
    """Push one pending lead now. Returns the outcome word (see :meth:`LeadPush.record`)."""
    push = LeadPush(lead_id, trigger=trigger, user=user, confirm_resend=confirm_resend)
    if not push.prepare():
        return push.outcome
    own_client = client is None
    if own_client:
        client = client_for(push.lead.dealership)
    try:
        push.send(client)
    finally:
        if own_client:
            client.close()
    return push.record()


def retry_lead(lead, user=None):
    """The admin's "Retry sync": send a failed (or stuck pending) lead again, now.

    Clears the failure, so an editor's fix is what gets sent. A lead held because an earlier
    create could not be reconciled is re-sent: the editor has confirmed it is not in EasyCars.
    Returns the outcome word; the lead's ``sync_state``/``sync_error`` tell the editor the rest.
    """
    lead.refresh_from_db()
    if lead.sync_state not in (Lead.SyncState.FAILED, Lead.SyncState.PENDING):
        return "skipped"
    confirm = lead.sync_state == Lead.SyncState.FAILED and bool(lead.synced_values.get("_unresolved"))
    Lead.objects.filter(pk=lead.pk).update(sync_state=Lead.SyncState.PENDING, sync_error="")
    outcome = push_lead(lead.pk, trigger=SyncLog.Trigger.MANUAL, user=user, confirm_resend=confirm)
    lead.refresh_from_db()
    return outcome


def pending_leads(dealership, *, include_backoff=False):
    """The dealership's pending leads that no push is handling, oldest first.

    ``include_backoff`` also returns leads waiting for a retry (a manual sync tries them now).
    """
    claimed = claimed_lead_ids([dealership.pk], include_backoff=not include_backoff)
    leads = Lead.objects.filter(dealership=dealership, sync_state=Lead.SyncState.PENDING).order_by("created_at", "pk")
    return [pk for pk in leads.values_list("pk", flat=True) if pk not in claimed]


def push_pending_leads(dealership, *, client=None, trigger=SyncLog.Trigger.SCHEDULE, user=None):
    """Push every pending lead of a dealership, LEAD_PUSH_CONCURRENCY requests at a time.

    The database work runs in this thread; only the HTTP calls run in the pool, so this works
    on SQLite as well as PostgreSQL. Returns ``{outcome: count}``.
    """
    outcomes = {}
    ids = pending_leads(dealership, include_backoff=trigger != SyncLog.Trigger.SCHEDULE)
    if not ids:
        return outcomes
    own_client = client is None
    if own_client:
        client = client_for(dealership)
    size = max(1, get_setting("LEAD_PUSH_CONCURRENCY"))
    try:
        with ThreadPoolExecutor(max_workers=size, thread_name_prefix="easycars-push") as pool:
            for start in range(0, len(ids), size * 4):
                pushes = []
                for lead_id in ids[start : start + size * 4]:
                    push = LeadPush(lead_id, trigger=trigger, user=user)
                    if push.prepare():
                        pushes.append(push)
                    else:
                        outcomes[push.outcome] = outcomes.get(push.outcome, 0) + 1
                # HTTP in the pool; then record the whole batch in this thread.
                wait([pool.submit(push.send, client) for push in pushes])
                for push in pushes:
                    outcome = push.record()
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
    finally:
        if own_client:
            client.close()
    return outcomes


__all__ = [
    "LeadPush",
    "Reconciliation",
    "pending_leads",
    "push_lead",
    "push_pending_leads",
    "retry_lead",
    "UnresolvedCreate",
    "claim_lead",
    "client_for",
    "reconcile_create",
    "release_claim",
    "retry_delay",
    "vehicle_public_url",
]
