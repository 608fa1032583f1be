"""One lead push in three phases, so that many can share a run.

:func:`prepare_pushes` (database, one transaction: claim the leads, build their requests, note
the creates about to be sent), :meth:`LeadPush.send` (HTTP only, safe in a thread) and
:func:`record_pushes` (database, one transaction: store the outcomes, log them, schedule
retries). A lead is claimed through its :class:`~wagtail_easycars.models.LeadClaim` so that two
workers never push it at once; a killed worker's claim expires and the sweeper takes the lead up
again.
"""

import logging
import random
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Length, Now
from django.utils import timezone
from django.utils.translation import gettext as _

from ... import jobs
from ...client.errors import (
    EasyCarsApiError,
    EasyCarsAuthenticationError,
    EasyCarsCircuitOpen,
    EasyCarsOutcomeUnknown,
    EasyCarsUnavailableError,
)
from ...client.http import redact
from ...conf import get_setting
from ...crypto import EncryptionKeyError, SecretDecryptionError
from ...models import EasyCarsCredential, Lead, LeadClaim, SyncLog
from ..accounts import account_for
from .mapping import (
    LeadMappingError,
    MissingCustomerIdentity,
    build_create_request,
    build_update_request,
    lead_values,
    vehicle_facts,
)
from .outbox import enqueue_push, has_unsynced_changes
from .reconcile import SCANS_BEFORE_RESEND, UnresolvedCreate, next_scan_at, quiet_period, reconcile_create

logger = logging.getLogger("wagtail_easycars.leads")

RETRY_SCHEDULE_PREFIX = "lead-retry:"
#: Outcomes that keep the lead pending under a back-off claim until its next attempt.
HELD_OUTCOMES = ("retry", "waiting")


# Claims and retries --------------------------------------------------------------------------


def claim_leads(lead_ids):
    """Claim those of ``lead_ids`` (existing leads) that no push holds; returns ``(token, claimed ids)``.

    A claim that only holds a retry back-off is taken over.
    """
    LeadClaim.objects.bulk_create([LeadClaim(lead_id=lead_id) for lead_id in lead_ids], ignore_conflicts=True)
    token = uuid.uuid4().hex
    free = Q(lease_until__isnull=True) | Q(lease_until__lte=Now()) | Q(backoff=True)
    ttl = timedelta(seconds=get_setting("SYNC_LEASE_SECONDS"))
    claims = LeadClaim.objects.filter(lead_id__in=lead_ids)
    claims.filter(free).update(owner=token, backoff=False, lease_until=Now() + ttl)
    return token, set(claims.filter(owner=token).values_list("lead_id", flat=True))


def release_claims(lead_ids, token):
    """Drop the claims ``token`` holds on ``lead_ids`` (a back-off, no longer owned, stays)."""
    LeadClaim.objects.filter(lead_id__in=lead_ids, owner=token).delete()


def hold_for_backoff(lead_id, token, delay):
    """Turn a push's claim into a back-off: the sweeper leaves the lead until the retry is due."""
    LeadClaim.objects.filter(lead_id=lead_id, owner=token).update(owner="", backoff=True, lease_until=Now() + delay)


def drop_backoff(lead_id):
    """Forget a lead's retry back-off (an editor wants it sent now)."""
    LeadClaim.objects.filter(lead_id=lead_id, backoff=True).delete()


def claimed_lead_ids(dealership_ids=None, *, include_backoff=True):
    """Ids of leads whose push is running (or, with ``include_backoff``, waiting for its back-off)."""
    claims = LeadClaim.objects.filter(lease_until__gt=Now())
    if not include_backoff:
        claims = claims.exclude(backoff=True)
    if dealership_ids is not None:
        claims = claims.filter(lead__dealership_id__in=dealership_ids)
    return set(claims.values_list("lead_id", flat=True))


def retry_delay(attempts):
    """Back-off before attempt ``attempts + 1``: doubling from LEAD_RETRY_INITIAL_DELAY, capped, jittered."""
    initial, cap = get_setting("LEAD_RETRY_INITIAL_DELAY"), get_setting("LEAD_RETRY_MAX_DELAY")
    base = min(cap, initial * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def schedule_retry(lead_id, delay):
    """One django-q2 ONCE schedule per lead (replaced, never duplicated); the sweeper is the safety net."""
    jobs.schedule_once(f"{RETRY_SCHEDULE_PREFIX}{lead_id}", jobs.PUSH_LEAD, lead_id, when=timezone.now() + delay)


def _local_time(lead, when):
    local = timezone.localtime(when, lead.dealership.zoneinfo)
    return {"time": f"{local:%H:%M}", "zone": local.tzname()}


def not_sent_note(lead, error, delay):
    """The editor's note on a lead that could not be sent yet and is retried after ``delay``."""
    message = _(
        "Not sent yet: %(error)s The next attempt is around %(time)s (%(zone)s); the lead is kept until "
        "EasyCars accepts it."
    ) % {"error": error, **_local_time(lead, timezone.now() + delay)}
    return message[:2000]


def waiting_note(lead, when, *, checked=False):
    """The editor's note on a lead whose CreateLead may have reached EasyCars: nothing is sent before ``when``."""
    if checked:
        message = _(
            "Waiting to confirm EasyCars did not receive it: EasyCars did not show this enquiry yet. It is "
            "checked once more around %(time)s (%(zone)s), and sent again only if it is still not there."
        )
    else:
        message = _(
            "Waiting to confirm EasyCars did not receive it: an earlier attempt sent this enquiry but got no "
            "clear answer, so EasyCars may have it. It is checked around %(time)s (%(zone)s), and sent again "
            "only if EasyCars does not have it."
        )
    return message % _local_time(lead, when)


class CredentialsUnreadable(Exception):
    """The dealership's stored EasyCars credentials cannot be decrypted with this site's keys."""

    def __str__(self):
        return unreadable_credentials_message()


def readable_account(credential):
    """The client account of ``credential``; CredentialsUnreadable when this site's keys cannot decrypt it."""
    try:
        return account_for(credential)
    except (SecretDecryptionError, EncryptionKeyError) as exc:
        # The crypto message names the dealership and the key id, never a secret: for the logs.
        logger.warning("EasyCars credentials of dealership %s cannot be decrypted: %s", credential.dealership_id, exc)
        raise CredentialsUnreadable from None


def unreadable_credentials_message():
    """For editors: what is wrong and what to do (no key, id or secret in it)."""
    return _(
        "The EasyCars credentials cannot be read with this site's encryption key: the key they were saved "
        "with (WAGTAIL_EASYCARS['ENCRYPTION_KEYS'] or EASYCARS_ENCRYPTION_KEY) is missing or different. "
        "Restore that key, or enter the dealership's EasyCars credentials again."
    )


# Shared lookups ------------------------------------------------------------------------------


class PushContext:
    """What the pushes of one run share: looked up once per run, written once per batch."""

    def __init__(self, vehicle_url=None):
        self._vehicle_url = vehicle_url or (lambda vehicle: None)
        self._credentials = {}
        self._accounts = {}
        self._urls = {}
        self._highest = {}
        self.logs = []
        self.released = []

    def credential(self, dealership_id):
        if dealership_id not in self._credentials:
            self._credentials[dealership_id] = EasyCarsCredential.objects.filter(dealership_id=dealership_id).first()
        return self._credentials[dealership_id]

    def account(self, dealership_id):
        """The dealership's decrypted credentials for the client (once per run); see :func:`readable_account`."""
        if dealership_id not in self._accounts:
            self._accounts[dealership_id] = readable_account(self.credential(dealership_id))
        return self._accounts[dealership_id]

    def vehicle_url(self, vehicle):
        if vehicle is None:
            return None
        if vehicle.pk not in self._urls:
            self._urls[vehicle.pk] = self._vehicle_url(vehicle)
        return self._urls[vehicle.pk]

    def highest_lead_number(self, dealership_id):
        """The highest LeadNumber we know for the dealership (a lower bound is all reconciling needs)."""
        if dealership_id not in self._highest:
            numbers = Lead.objects.filter(dealership_id=dealership_id, easycars_lead_number__isnull=False)
            self._highest[dealership_id] = (
                numbers.order_by(Length("easycars_lead_number").desc(), "-easycars_lead_number")
                .values_list("easycars_lead_number", flat=True)
                .first()
                or ""
            )
        return self._highest[dealership_id]

    def flush(self):
        """Write the batch's sync logs and drop its released claims (two queries)."""
        if self.logs:
            SyncLog.objects.bulk_create(self.logs)
        by_token = {}
        for lead_id, token in self.released:
            by_token.setdefault(token, []).append(lead_id)
        for token, lead_ids in by_token.items():
            release_claims(lead_ids, token)
        self.logs, self.released = [], []
        self._highest.clear()  # the next batch starts from the numbers just received


# The phases ----------------------------------------------------------------------------------


def prepare_pushes(dealership_id, lead_ids, *, context, trigger=SyncLog.Trigger.EVENT, user=None):
    """Phase 1, in one transaction: claim, load and build. Returns ``(pushes, {outcome: count})``.

    Committed before anything is sent: the claims, and ``push_started_at``, which makes a lost
    answer get reconciled rather than re-sent.
    """
    skipped = {}
    with transaction.atomic():
        credential = context.credential(dealership_id)
        pending = Lead.objects.filter(pk__in=lead_ids, sync_state=Lead.SyncState.PENDING)
        if credential is None or not credential.is_configured:
            count = pending.update(
                sync_state=Lead.SyncState.NOT_APPLICABLE,
                sync_error=_("This dealership has no EasyCars credentials, so the lead is not sent."),
            )
            return [], {"not_applicable": count} if count else {}
        if not credential.is_active:
            # Stays pending: the sweeper sends it once syncing is turned back on.
            count = pending.update(
                sync_error=_(
                    "EasyCars syncing is turned off for this dealership; the lead will be sent when it is "
                    "turned back on."
                )
            )
            return [], {"paused": count} if count else {}
        try:
            context.account(dealership_id)
        except CredentialsUnreadable as exc:
            return [], _hold_for_unreadable_credentials(pending, exc)
        existing = set(Lead.objects.filter(pk__in=lead_ids).values_list("pk", flat=True))
        token, claimed = claim_leads(sorted(existing))
        if len(claimed) < len(existing):
            skipped["busy"] = len(existing) - len(claimed)
        pushes, creates, not_pending = [], [], []
        for lead in Lead.objects.select_related("dealership", "vehicle").filter(pk__in=claimed).order_by("pk"):
            if lead.sync_state != Lead.SyncState.PENDING:
                not_pending.append(lead.pk)
                continue
            push = LeadPush(lead, token, context=context, trigger=trigger, user=user)
            if push.build() == "create":
                creates.append(lead.pk)
            pushes.append(push)
        # A lead deleted since it was listed counts as skipped, like one that is no longer pending.
        gone = (claimed | (set(lead_ids) - existing)) - {push.lead.pk for push in pushes}
        not_pending += sorted(gone - set(not_pending))
        if not_pending:
            release_claims(not_pending, token)
            skipped["skipped"] = len(not_pending)
        if creates:
            _note_creates(dealership_id, creates, context=context)
    return pushes, skipped


def _hold_for_unreadable_credentials(pending, error):
    """Keep the leads pending with the reason, retried with back-off as if EasyCars were unavailable.

    Nothing was sent, so nothing about an earlier create (``push_started_at``) changes.
    """
    token, claimed = claim_leads(sorted(pending.values_list("pk", flat=True)))
    held = 0
    for lead in pending.select_related("dealership").filter(pk__in=claimed):
        attempts = lead.sync_attempts + 1
        delay = retry_delay(attempts)
        Lead.objects.filter(pk=lead.pk).update(sync_error=not_sent_note(lead, error, delay), sync_attempts=attempts)
        hold_for_backoff(lead.pk, token, delay)
        schedule_retry(lead.pk, delay)
        held += 1
    release_claims(claimed, token)  # any left (no longer pending); the back-offs are no longer owned
    return {"retry": held} if held else {}


def _note_creates(dealership_id, lead_ids, *, context):
    """Mark the creates about to be sent, with the highest lead number EasyCars had given us.

    The leads they make get later numbers, which bounds the search if an answer is lost. Each
    create starts afresh: an editor's confirmation to re-send covers this one send.
    """
    Lead.objects.filter(pk__in=lead_ids).update(
        push_started_at=Now(),
        reconcile_after=context.highest_lead_number(dealership_id),
        reconcile_misses=0,
        reconcile_checked_at=None,
        create_unresolved=False,
        resend_confirmed=False,
        unsendable_fields={},
        synced_values={},
    )


def record_pushes(pushes, *, context):
    """Phase 3, in one transaction: store every outcome. Returns ``{outcome: count}``."""
    outcomes = {}
    with transaction.atomic():
        for push in pushes:
            outcome = push.record()
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        context.flush()
    return outcomes


class LeadPush:
    """Sends one claimed lead: CreateLead the first time, UpdateLead with what changed later."""

    def __init__(self, lead, token, *, context, trigger=SyncLog.Trigger.EVENT, user=None):
        self.lead = lead
        self.token = token
        self.context = context
        self.trigger = trigger
        self.user = user if user is not None and user.is_authenticated else None
        self.values = lead_values(lead)
        #: An editor confirmed (Retry sync) that a create that could not be reconciled may be re-sent.
        self.confirm_resend = lead.resend_confirmed
        self.operation = "UpdateLead" if lead.easycars_lead_number else "CreateLead"
        self.request = None
        self.facts = None
        self.find_customer_by_phone = []
        self.customer_no = None
        self.create_sent = False
        self.plan = None
        #: When an unknown create may next be looked for, if that is still to come: nothing is sent.
        self.wait_until = None
        self.reconcile = None
        self.reconciliation = None
        self.scanned_at = None
        self.result = None
        self.adopted = None
        self.error = None
        self.outcome = None

    def build(self):
        """Build the request (no writes). Returns "create" when a new CreateLead is about to go out,
        "reconcile" or "wait" when an earlier one may have reached EasyCars, "update" or "invalid"."""
        lead = self.lead
        if self.operation == "CreateLead" and lead.push_started_at and not self.confirm_resend:
            return self._build_reconcile()
        try:
            if self.operation == "UpdateLead":
                self.plan = build_update_request(lead.easycars_lead_number, lead.synced_values, self.values)
                self.request = self.plan.request
                return "update"
            self.facts = vehicle_facts(lead.vehicle, self.context.vehicle_url(lead.vehicle))
            self.request = self._create_request(lead.easycars_customer_no)
        except MissingCustomerIdentity as exc:
            if not (lead.phone or lead.mobile):
                self.error = exc
                return "invalid"
            # No email (the enquiry form accepts a phone number alone): find the customer by
            # phone in send(), since the CustomerModel needs an email or a CustomerNo.
            self.find_customer_by_phone = [number for number in (lead.mobile, lead.phone) if number]
        except LeadMappingError as exc:
            self.error = exc
            return "invalid"
        return "create"

    def _build_reconcile(self):
        """An earlier attempt sent CreateLead and never learnt the outcome: look for it, never re-send here.

        EasyCars is only looked at a quiet period after the send (or after the last scan that
        found nothing), since it may finish a create after the client gave up on it.
        """
        lead = self.lead
        due = next_scan_at(lead)
        if due > timezone.now():
            self.wait_until = due
            return "wait"
        known = Lead.objects.filter(dealership_id=lead.dealership_id, easycars_lead_number__isnull=False)
        self.reconcile = {
            "after": lead.reconcile_after or "",
            "known": set(known.values_list("easycars_lead_number", flat=True)),
            "email": lead.email,
            "final": lead.reconcile_misses + 1 >= SCANS_BEFORE_RESEND,
        }
        try:  # only for the log of an adopted lead: the request is not sent from here
            self.facts = vehicle_facts(lead.vehicle, self.context.vehicle_url(lead.vehicle))
            self.request = self._create_request(lead.easycars_customer_no)
        except LeadMappingError:
            pass
        return "reconcile"

    def _create_request(self, customer_no):
        return build_create_request(self.values, self.facts, external_id=self.lead.external_id, customer_no=customer_no)

    def _customer_no_by_phone(self, client):
        """The CustomerNo of the one EasyCars contact with this phone (SearchContacts matches phone or mobile)."""
        for number in self.find_customer_by_phone:
            candidates = dict.fromkeys([number, "".join(ch for ch in number if ch.isdigit() or ch == "+")])
            for candidate in candidates:
                customers = {contact.customer_no for contact in client.search_contacts(phone=candidate)}
                customers.discard("")
                if len(customers) == 1:
                    return customers.pop()
                if len(customers) > 1:
                    raise LeadMappingError(
                        _(
                            "Several EasyCars customers have the phone number %(number)s; add the customer's email "
                            "address (or their EasyCars customer number), then use 'Retry sync'."
                        )
                        % {"number": number}
                    )
        raise LeadMappingError(
            _(
                "EasyCars needs an email address for a new customer, and no EasyCars customer has this phone "
                "number. Add the customer's email address, then use 'Retry sync'."
            )
        )

    # Phase 2: HTTP only -----------------------------------------------------------------------

    def send(self, client):
        """Talk to EasyCars; never touches the database (safe to run in a worker thread)."""
        if self.error is not None or self.wait_until is not None:
            return
        try:
            if self.reconcile is not None:
                self._reconcile(client)
                return
            if self.find_customer_by_phone:
                self.customer_no = self._customer_no_by_phone(client)
                self.request = self._create_request(self.customer_no)
            if self.request is None:
                return
            if self.operation == "CreateLead":
                self.create_sent = True
                self.result = client.create_lead(self.request)
            else:
                self.result = client.update_lead(self.request)
        except Exception as exc:  # noqa: BLE001 - recorded by record(); a thread must not die silently
            self.error = exc

    def _reconcile(self, client):
        """Look for the unknown create. A re-send, if it comes to that, is a push of its own (see record())."""
        outcome = reconcile_create(client, self.lead.external_id, **self.reconcile)
        self.scanned_at = timezone.now()
        if outcome.found is not None:
            self.adopted = outcome.found
        elif outcome.look_again or outcome.safe_to_resend:
            self.reconciliation = outcome
        else:
            self.error = UnresolvedCreate()

    # Phase 3: database ------------------------------------------------------------------------

    def record(self):
        """Store the outcome: ``"sent"``, ``"reconciled"``, ``"failed"``, ``"retry"`` (back-off),
        ``"waiting"`` (a create that may have reached EasyCars, not looked for yet or not found yet)
        or ``"resend"`` (not found twice: queued to be sent afresh)."""
        if isinstance(self.error, LeadMappingError | EasyCarsApiError | UnresolvedCreate):
            self.outcome = self._record_failure()
        elif isinstance(self.error, EasyCarsOutcomeUnknown):
            self.outcome = self._record_unknown()
        elif self.error is not None:
            self.outcome = self._record_retry()
        elif self.wait_until is not None:
            self.outcome = self._record_wait()
        elif self.reconciliation is not None and self.reconciliation.look_again:
            self.outcome = self._record_miss()
        elif self.reconciliation is not None:
            self.outcome = self._record_resend()
        elif self.adopted is not None:
            self.outcome = self._record_success(self.adopted.lead_number, self.adopted.customer_no, "reconciled")
        else:
            number = self.result.lead_number if self.result else self.lead.easycars_lead_number
            customer_no = self.result.customer_no if self.result else None
            self.outcome = self._record_success(number, customer_no, "sent")
        if self.outcome not in HELD_OUTCOMES:
            self.context.released.append((self.lead.pk, self.token))
        return self.outcome

    def _record_success(self, lead_number, customer_no, outcome):
        lead = self.lead
        if self.operation == "CreateLead":
            # CreateLead carries no status; assume EasyCars starts a lead as New (undocumented), so a
            # different local status follows as an UpdateLead.
            synced, unsendable = {**self.values, "status": Lead.Status.NEW}, {}
        else:
            synced, unsendable = dict(self.plan.values), self.plan.unsendable
        notes = " ".join(self.plan.skipped) if self.plan else ""
        warning = getattr(self.result, "warning", None)
        if warning:
            notes = " ".join(filter(None, [notes, _("EasyCars warned: %(warning)s") % {"warning": warning}]))
        changes = {
            "easycars_lead_number": lead_number,
            "synced_values": synced,
            "unsendable_fields": unsendable,
            # EasyCars has the lead: nothing is left to reconcile or confirm.
            "reconcile_after": None,
            "reconcile_misses": 0,
            "reconcile_checked_at": None,
            "create_unresolved": False,
            "resend_confirmed": False,
            "sync_state": Lead.SyncState.SENT,
            "sync_error": notes,
            "sync_attempts": F("sync_attempts") + 1,
            "push_started_at": None,
            "last_synced_to_easycars": timezone.now(),
        }
        if customer_no:
            changes["easycars_customer_no"] = customer_no
        try:
            with transaction.atomic():
                # An editor's save bumps updated_at: unchanged means nothing was edited mid-flight.
                untouched = Lead.objects.filter(pk=lead.pk, updated_at=lead.updated_at).update(**changes)
                if not untouched:
                    Lead.objects.filter(pk=lead.pk).update(**changes)
        except IntegrityError:
            # Another local lead already holds this LeadNumber: never merge two enquiries silently.
            self.error = EasyCarsApiError(
                _("EasyCars returned lead number %(number)s, which another lead here already has.")
                % {"number": lead_number}
            )
            return self._record_failure()
        self._log(SyncLog.Status.WARNING if notes else SyncLog.Status.SUCCESS, lead_number=lead_number, note=notes)
        if not untouched:
            lead.refresh_from_db()
            if has_unsynced_changes(lead):
                # Edited while the push was in flight: send those changes too.
                Lead.objects.filter(pk=lead.pk, sync_state=Lead.SyncState.SENT).update(
                    sync_state=Lead.SyncState.PENDING
                )
                transaction.on_commit(lambda: enqueue_push(lead.pk))
        return outcome

    def _record_failure(self):
        message = failure_message(self.error)
        updates = {
            "sync_state": Lead.SyncState.FAILED,
            "sync_error": message,
            "sync_attempts": F("sync_attempts") + 1,
        }
        if isinstance(self.error, UnresolvedCreate):
            # Marks the one failure that "Retry sync" resolves by re-sending without checking.
            updates["create_unresolved"] = True
        refused = isinstance(self.error, EasyCarsApiError)
        if self.operation == "CreateLead" and (refused or (not self.create_sent and self.reconcile is None)):
            # EasyCars refused this create, or it was never sent: no lead was made. (A lead whose
            # earlier create was lost keeps push_started_at, so that one is still checked.)
            updates["push_started_at"] = None
        Lead.objects.filter(pk=self.lead.pk).update(**updates)
        self._log(SyncLog.Status.FAILED, error=message)
        return "failed"

    def _record_retry(self):
        attempts = self.lead.sync_attempts + 1
        delay = retry_delay(attempts)
        updates = {"sync_error": not_sent_note(self.lead, self.error, delay), "sync_attempts": attempts}
        refused_before_sending = isinstance(
            self.error, EasyCarsUnavailableError | EasyCarsAuthenticationError
        ) and not isinstance(self.error, EasyCarsOutcomeUnknown)
        nothing_sent = self.reconcile is None and (not self.create_sent or refused_before_sending)
        if self.operation == "CreateLead" and nothing_sent:
            # The create never reached EasyCars (connection refused, token or breaker stopped it
            # first), so the next attempt need not reconcile. Otherwise push_started_at stays and it will.
            updates["push_started_at"] = None
        Lead.objects.filter(pk=self.lead.pk).update(**updates)
        if not isinstance(self.error, EasyCarsCircuitOpen):  # nothing was sent: no log entry
            self._log(SyncLog.Status.FAILED, error=str(self.error))
        self._hold(delay)
        return "retry"

    def _hold(self, delay):
        """Keep the lead for its next attempt after ``delay``: a back-off claim and a ONCE schedule."""
        hold_for_backoff(self.lead.pk, self.token, delay)
        schedule_retry(self.lead.pk, delay)

    def _record_unknown(self):
        """CreateLead was sent and the answer proves nothing: not sent again before it has been looked for."""
        delay = quiet_period()
        Lead.objects.filter(pk=self.lead.pk).update(
            sync_error=waiting_note(self.lead, timezone.now() + delay),
            sync_attempts=F("sync_attempts") + 1,
        )
        self._log(SyncLog.Status.FAILED, error=str(self.error))
        self._hold(delay)
        return "waiting"

    def _record_wait(self):
        """The quiet period of an unknown create has not passed: nothing was sent; try again when it has."""
        delay = max(self.wait_until - timezone.now(), timedelta(seconds=1))
        Lead.objects.filter(pk=self.lead.pk).update(
            sync_error=waiting_note(self.lead, self.wait_until, checked=bool(self.lead.reconcile_misses))
        )
        self._hold(delay)
        return "waiting"

    def _record_miss(self):
        """The scan found nothing, but EasyCars may still be working on it: look once more, a quiet period on."""
        delay = quiet_period()
        Lead.objects.filter(pk=self.lead.pk).update(
            reconcile_misses=F("reconcile_misses") + 1,
            reconcile_checked_at=self.scanned_at,
            sync_error=waiting_note(self.lead, self.scanned_at + delay, checked=True),
        )
        self._hold(delay)
        return "waiting"

    def _record_resend(self):
        """Two scans a quiet period apart found nothing and no customer: EasyCars never got it.

        The create is not sent from this push: it goes out from a fresh one, which commits a new
        ``push_started_at`` before sending (so a lost answer to the re-send is waited for too).
        """
        Lead.objects.filter(pk=self.lead.pk).update(
            push_started_at=None,
            reconcile_misses=0,
            reconcile_checked_at=None,
            sync_error=_("EasyCars did not receive this enquiry (checked twice); it is being sent again."),
        )
        lead_id = self.lead.pk
        transaction.on_commit(lambda: enqueue_push(lead_id))
        return "resend"

    def _log(self, status, *, lead_number=None, error="", note=""):
        now = timezone.now()
        body = self.request.to_payload() if self.request is not None else None
        summary = {"lead": self.lead.pk, "external_id": str(self.lead.external_id), "operation": self.operation}
        if self.adopted is not None:
            summary["reconciled"] = True
        if lead_number:
            summary["LeadNumber"] = lead_number
            summary["CustomerNo"] = getattr(self.result or self.adopted, "customer_no", None)
        if note:
            summary["note"] = note
        failed = status == SyncLog.Status.FAILED
        self.context.logs.append(
            SyncLog(
                dealership_id=self.lead.dealership_id,
                credential=self.context.credential(self.lead.dealership_id),
                sync_type=SyncLog.SyncType.LEAD,
                direction=SyncLog.Direction.OUTBOUND,
                status=status,
                trigger=self.trigger,
                triggered_by=self.user,
                started_at=now,
                completed_at=now,
                heartbeat_at=now,
                duration_ms=0,
                records_total=1,
                records_processed=1,
                records_created=int(self.operation == "CreateLead" and not failed),
                records_updated=int(self.operation == "UpdateLead" and not failed),
                records_failed=int(failed),
                error_message=error[:2000],
                request_payload=redact({"operation": self.operation, "body": body}) if body else None,
                response_summary=summary,
            )
        )


def failure_message(exc):
    if isinstance(exc, EasyCarsApiError):
        reason = exc.error_message or str(exc)
        return _("EasyCars refused the lead: %(reason)s. Correct the lead, then use 'Retry sync'.") % {"reason": reason}
    return str(exc)
