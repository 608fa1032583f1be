"""Outbound leads against the sandbox over loopback: every enquiry arrives exactly once."""

import json
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.utils import timezone
from django_q.models import Schedule

from wagtail_easycars import tasks
from wagtail_easycars.models import Lead, LeadClaim, SyncLog
from wagtail_easycars.sync.leads import delivery as lead_sync
from wagtail_easycars.sync.leads.delivery import retry_lead
from wagtail_easycars.sync.leads.push import (
    PushContext,
    claim_leads,
    claimed_lead_ids,
    prepare_pushes,
    record_pushes,
    release_claims,
)

from ..factories import CredentialFactory, DealershipFactory, EasyCarsVehicleFactory, LeadFactory, UserFactory
from ..showroom.test_enquiry import enquiry as enquiry_form
from .test_outcome_unknown import quiet_period_passes

pytestmark = pytest.mark.django_db

CREATE = "LeadService/CreateLead"
UPDATE = "LeadService/UpdateLead"
SECRET = "00000000-0000-0000-0000-000000000003"


@pytest.fixture
def dealership(easycars):
    return CredentialFactory().dealership


@pytest.fixture
def vehicle(dealership):
    return EasyCarsVehicleFactory(
        dealership=dealership, make="VOLVO", model="V90", year=2020, price=65000, easycars_stock_number="12"
    )


def _enquiry(django_capture_on_commit_callbacks, **kwargs):
    """Save a lead as the public form does, and run what is queued after the commit."""
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(data_source=Lead.DataSource.WEBFORM, **kwargs)
    lead.refresh_from_db()
    return lead


def _received(sandbox, endpoint=CREATE, account=1):
    return [json.loads(entry["body"]) for entry in sandbox.control.received(account) if entry["endpoint"] == endpoint]


def _breaker_pause_passes():
    # The client's breaker keeps EasyCars calls paused for BREAKER_RESET_SECONDS after repeated failures.
    for cache in caches.all():
        cache.clear()


def _retry(lead, django_capture_on_commit_callbacks, user=None):
    """The admin's Retry sync: queued on commit, run by the (inline) worker."""
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_lead(lead, user)
    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.SENT


# Claims ------------------------------------------------------------------------------------------


def test_a_claimed_lead_is_busy_for_other_pushes_until_its_claim_expires(easycars, dealership, vehicle):
    lead = LeadFactory(dealership=dealership, vehicle=vehicle)
    token, claimed = claim_leads([lead.pk])
    assert claimed == {lead.pk}
    assert claim_leads([lead.pk])[1] == set()
    assert claimed_lead_ids([dealership.pk], include_backoff=False) == {lead.pk}

    LeadClaim.objects.filter(lead=lead).update(lease_until=timezone.now() - timedelta(seconds=1))  # worker died
    assert claimed_lead_ids() == set()
    other, claimed = claim_leads([lead.pk])
    assert claimed == {lead.pk}

    release_claims([lead.pk], token)  # the first worker no longer owns it
    assert LeadClaim.objects.get(lead=lead).owner == other
    release_claims([lead.pk], other)
    assert not LeadClaim.objects.exists()


def test_a_push_skips_a_lead_another_push_holds(easycars, dealership, vehicle, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        lead = LeadFactory(dealership=dealership, vehicle=vehicle, data_source=Lead.DataSource.WEBFORM)
    claim_leads([lead.pk])

    assert tasks.push_lead(lead.pk) == "busy"
    assert not _received(easycars)


def test_a_deleted_lead_takes_its_claim_with_it(easycars, dealership, vehicle):
    lead = LeadFactory(dealership=dealership, vehicle=vehicle)
    claim_leads([lead.pk])
    lead.delete()
    assert not LeadClaim.objects.exists()


# The outbox ------------------------------------------------------------------------------------


def outbox_callbacks(callbacks):
    """The outbox's own on-commit callbacks (Wagtail 7.0 also queues search-index tasks on commit)."""
    return [c for c in callbacks if "enqueue_pending_lead" in getattr(c, "__qualname__", "")]


def test_new_enquiry_is_pending_in_the_same_save_and_queued_only_after_commit(
    dealership, vehicle, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lead = LeadFactory(dealership=dealership, vehicle=vehicle, data_source=Lead.DataSource.WEBFORM)
        assert Lead.objects.get(pk=lead.pk).sync_state == Lead.SyncState.PENDING
    assert len(outbox_callbacks(callbacks)) == 1


def test_lead_of_a_dealership_without_credentials_is_not_applicable(easycars, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lead = LeadFactory(data_source=Lead.DataSource.MANUAL)
    assert lead.sync_state == Lead.SyncState.NOT_APPLICABLE
    assert not outbox_callbacks(callbacks)


def test_lead_that_came_from_easycars_is_not_pushed_back(dealership, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lead = LeadFactory(dealership=dealership, data_source=Lead.DataSource.EASYCARS, easycars_lead_number="000009")
    assert lead.sync_state == Lead.SyncState.NOT_APPLICABLE
    assert not outbox_callbacks(callbacks)


# Create ----------------------------------------------------------------------------------------


def test_enquiry_reaches_easycars_once_with_nested_customer_and_contract_enums(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    lead = _enquiry(
        django_capture_on_commit_callbacks,
        dealership=dealership,
        vehicle=vehicle,
        name="Jo Citizen",
        email="jo@example.com",
        mobile="0420000000",
        vehicle_interest="test_drive",
        rating="hot",
        finance_status="maybe",
    )

    [body] = _received(easycars)
    assert body["LeadCustomer"] == {
        "Name": "Jo Citizen",
        "Email": "jo@example.com",
        "Phone": "0400000000",
        "Mobile": "0420000000",
    }
    assert not {"CustomerName", "CustomerEmail", "CustomerPhone", "CustomerMobile", "Comments"} & set(body)
    assert body["VehicleInterest"] == 4
    assert body["Rating"] == 3
    assert body["FinanceStatus"] == 3
    assert body["VehicleType"] == 1
    assert body["IsVehicleNew"] is False
    assert body["StockNumber"] == "12"
    assert body["Notes"] == "Is this car still available?"
    assert body["ExternalID"] == str(lead.external_id)
    [stored] = easycars.control.leads()
    assert lead.sync_state == Lead.SyncState.SENT
    assert lead.easycars_lead_number == stored["LeadNumber"]
    assert lead.easycars_customer_no == stored["CustomerNo"]
    assert lead.last_synced_to_easycars is not None
    assert lead.push_started_at is None


def test_push_is_logged_with_a_redacted_payload(easycars, dealership, vehicle, django_capture_on_commit_callbacks):
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)

    log = SyncLog.objects.get(sync_type="lead", direction="outbound")
    assert log.status == SyncLog.Status.SUCCESS
    assert log.request_payload["operation"] == "CreateLead"
    assert log.request_payload["body"]["ExternalID"] == str(lead.external_id)
    assert log.response_summary["LeadNumber"] == lead.easycars_lead_number
    assert SECRET not in json.dumps([log.request_payload, log.response_summary, log.error_message])


def test_easycars_down_the_whole_time_then_up_delivers_exactly_once(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    easycars.control.add_fault("*", "http_error", status=503)
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    assert lead.sync_state == Lead.SyncState.PENDING
    assert "Not sent yet" in lead.sync_error
    retry = Schedule.objects.get(name=f"wagtail_easycars:lead-retry:{lead.pk}")
    assert retry.func == "wagtail_easycars.tasks.push_lead"
    assert retry.next_run > timezone.now()

    for _ in range(3):  # the scheduled retries fire while EasyCars is still down
        assert tasks.push_lead(lead.pk) == "retry"
    easycars.control.clear_faults()
    _breaker_pause_passes()
    assert tasks.push_lead(lead.pk) == "sent"
    assert tasks.push_lead(lead.pk) == "skipped"

    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.SENT
    assert lead.sync_error == ""
    assert len(_received(easycars)) == 1
    assert len(easycars.control.leads()) == 1


def test_retry_delays_grow_and_are_capped(settings):
    settings.WAGTAIL_EASYCARS = {
        **settings.WAGTAIL_EASYCARS,
        "LEAD_RETRY_INITIAL_DELAY": 30,
        "LEAD_RETRY_MAX_DELAY": 600,
    }
    delays = [lead_sync.retry_delay(n).total_seconds() for n in (1, 2, 3, 10)]
    assert 24 <= delays[0] <= 36
    assert 48 <= delays[1] <= 72
    assert delays[2] > delays[1]
    assert delays[3] <= 720


def test_timeout_after_easycars_accepted_does_not_duplicate(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    easycars.control.add_fault(CREATE, "drop", count=1)  # processed, then the connection drops
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    assert lead.sync_state == Lead.SyncState.PENDING
    assert lead.push_started_at is not None
    assert lead.reconcile_after == ""  # the dealership had no LeadNumber yet
    assert lead.synced_values == {}

    assert tasks.push_lead(lead.pk) == "waiting"  # EasyCars may still be working on it
    quiet_period_passes(lead)
    assert tasks.push_lead(lead.pk) == "reconciled"

    lead.refresh_from_db()
    assert lead.reconcile_after is None
    [stored] = easycars.control.leads()
    assert len(_received(easycars)) == 1
    assert lead.sync_state == Lead.SyncState.SENT
    assert lead.easycars_lead_number == stored["LeadNumber"]
    assert SyncLog.objects.filter(direction="outbound", response_summary__reconciled=True).count() == 1


def test_timeout_before_easycars_processed_is_sent_after_checking(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    easycars.control.add_fault(CREATE, "drop", count=1, process=False)
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    assert lead.push_started_at is not None

    for _ in range(2):  # two scans, a quiet period apart, find nothing
        quiet_period_passes(lead)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.push_lead(lead.pk)

    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.SENT
    assert len(_received(easycars)) == 1
    assert easycars.control.count("LeadService/SearchContacts") == 1


def test_lost_answer_for_a_returning_customer_is_held_for_an_editor(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle, email="jo@example.com")
    easycars.control.add_fault(CREATE, "drop", count=1, process=False)
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle, email="jo@example.com")

    first_number = easycars.control.leads()[0]["LeadNumber"]
    assert Lead.objects.get(pk=lead.pk).reconcile_after == first_number

    quiet_period_passes(lead)
    assert tasks.push_lead(lead.pk) == "waiting"  # the first scan finds nothing
    quiet_period_passes(lead)
    assert tasks.push_lead(lead.pk) == "failed"  # nor does the second, and the customer exists
    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.FAILED
    assert "may already have this enquiry" in lead.sync_error
    assert lead.create_unresolved
    assert not lead.resend_confirmed
    assert lead.synced_values == {}
    assert len(_received(easycars)) == 1  # only the first enquiry

    with django_capture_on_commit_callbacks(execute=False):
        assert retry_lead(lead, UserFactory())
    lead.refresh_from_db()
    assert lead.resend_confirmed
    assert not lead.create_unresolved

    assert tasks.push_lead(lead.pk) == "sent"
    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.SENT
    assert len(_received(easycars)) == 2
    assert (lead.reconcile_after, lead.create_unresolved, lead.resend_confirmed) == (None, False, False)
    assert not [key for key in lead.synced_values if key.startswith("_")]


def test_worker_killed_mid_push_is_delivered_once_by_the_sweeper(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        lead = LeadFactory(dealership=dealership, vehicle=vehicle, data_source=Lead.DataSource.WEBFORM)
    [push], _ = prepare_pushes(dealership.pk, [lead.pk], context=PushContext())
    with lead_sync.client_for(dealership) as client:
        push.send(client)  # EasyCars accepts it ... and the worker dies before recording
    assert len(_received(easycars)) == 1
    # Later: the claim has expired and the lead has been quiet for longer than the grace period.
    LeadClaim.objects.filter(lead=lead).update(lease_until=timezone.now() - timedelta(seconds=1))
    Lead.objects.filter(pk=lead.pk).update(updated_at=timezone.now() - timedelta(minutes=10))

    assert tasks.sweep_pending_leads() == 1  # queued, but the create may still be in EasyCars' hands: it waits
    assert Lead.objects.get(pk=lead.pk).sync_state == Lead.SyncState.PENDING
    quiet_period_passes(lead)
    LeadClaim.objects.filter(lead=lead).update(lease_until=timezone.now() - timedelta(seconds=1))  # and its retry
    assert tasks.sweep_pending_leads() == 1

    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.SENT
    assert len(_received(easycars)) == 1
    assert lead.easycars_lead_number == easycars.control.leads()[0]["LeadNumber"]


def test_sweeper_leaves_leads_that_a_push_or_back_off_holds(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    easycars.control.add_fault("*", "http_error", status=503)
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    Lead.objects.filter(pk=lead.pk).update(updated_at=timezone.now() - timedelta(minutes=10))
    claim = LeadClaim.objects.get(lead=lead)
    assert claim.backoff
    assert claim.owner == ""
    assert claim.lease_until > timezone.now()

    assert tasks.sweep_pending_leads() == 0


def test_refusal_is_failed_with_the_reason_then_fixed_and_retried(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    easycars.control.add_fault(CREATE, "code", code=7, message="Customer email is invalid.", count=1)
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    assert lead.sync_state == Lead.SyncState.FAILED
    assert "Customer email is invalid." in lead.sync_error
    assert SyncLog.objects.get(direction="outbound").status == SyncLog.Status.FAILED

    lead.email = "fixed@example.com"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lead.save()
    assert not outbox_callbacks(callbacks)  # fixing does not resend by itself
    assert Lead.objects.get(pk=lead.pk).sync_state == Lead.SyncState.FAILED

    _retry(lead, django_capture_on_commit_callbacks, UserFactory())
    assert lead.sync_state == Lead.SyncState.SENT
    [body] = _received(easycars)
    assert body["LeadCustomer"]["Email"] == "fixed@example.com"
    assert SyncLog.objects.filter(direction="outbound", trigger=SyncLog.Trigger.MANUAL).count() == 1


def test_lead_without_a_vehicle_fails_with_a_reason_and_nothing_is_sent(
    easycars, dealership, django_capture_on_commit_callbacks
):
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=None)
    assert lead.sync_state == Lead.SyncState.FAILED
    assert "link the lead to a vehicle" in lead.sync_error
    assert not _received(easycars)


def test_paused_dealership_keeps_the_lead_pending(easycars, dealership, vehicle, django_capture_on_commit_callbacks):
    dealership.easycars_credential.is_active = False
    dealership.easycars_credential.save()
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    assert lead.sync_state == Lead.SyncState.PENDING
    assert "turned off" in lead.sync_error
    assert not _received(easycars)


# Updates ---------------------------------------------------------------------------------------


def _sent_lead(django_capture_on_commit_callbacks, **kwargs):
    lead = _enquiry(django_capture_on_commit_callbacks, **kwargs)
    assert lead.sync_state == Lead.SyncState.SENT
    return lead


def _edit(lead, django_capture_on_commit_callbacks, **changes):
    for field, value in changes.items():
        setattr(lead, field, value)
    with django_capture_on_commit_callbacks(execute=True):
        lead.save()
    lead.refresh_from_db()
    return lead


def test_local_changes_send_only_the_changed_fields(easycars, dealership, vehicle, django_capture_on_commit_callbacks):
    lead = _sent_lead(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)

    lead = _edit(lead, django_capture_on_commit_callbacks, rating="hot", status=Lead.Status.IN_PROGRESS)

    [body] = _received(easycars, UPDATE)
    assert body == {
        "AccountNumber": "EC000001",
        "AccountSecret": SECRET,
        "LeadNumber": lead.easycars_lead_number,
        "LeadStatus": 30,
        "Rating": 3,
    }
    assert lead.sync_state == Lead.SyncState.SENT
    [stored] = easycars.control.leads()
    assert stored["LeadStatus"] == 30
    assert stored["Rating"] == 3


def test_saving_without_changes_sends_nothing(easycars, dealership, vehicle, django_capture_on_commit_callbacks):
    lead = _sent_lead(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    lead = _edit(lead, django_capture_on_commit_callbacks)
    assert not _received(easycars, UPDATE)
    assert lead.sync_state == Lead.SyncState.SENT


def test_customer_change_sends_the_nested_customer(easycars, dealership, vehicle, django_capture_on_commit_callbacks):
    lead = _sent_lead(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    lead = _edit(lead, django_capture_on_commit_callbacks, mobile="0433333333")
    [body] = _received(easycars, UPDATE)
    assert body["LeadCustomer"] == {"Name": lead.name, "Email": lead.email, "Mobile": "0433333333"}
    assert "CustomerMobile" not in body


def test_deleted_lead_is_never_reactivated(easycars, dealership, vehicle, django_capture_on_commit_callbacks):
    lead = _sent_lead(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    lead = _edit(lead, django_capture_on_commit_callbacks, status=Lead.Status.DELETED)
    lead = _edit(lead, django_capture_on_commit_callbacks, status=Lead.Status.NEW)

    [deleted] = _received(easycars, UPDATE)
    assert deleted["LeadStatus"] == 90
    assert easycars.control.leads()[0]["LeadStatus"] == 90
    assert "deleted lead" in lead.sync_error
    assert lead.unsendable_fields == {"status": Lead.Status.NEW}
    assert lead.synced_values["status"] == Lead.Status.DELETED
    assert lead.sync_state == Lead.SyncState.SENT

    # While the status keeps the value EasyCars could not take, saving sends nothing.
    lead = _edit(lead, django_capture_on_commit_callbacks)
    assert len(_received(easycars, UPDATE)) == 1
    assert lead.sync_state == Lead.SyncState.SENT


def test_update_refused_by_easycars_is_failed_and_retryable(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    lead = _sent_lead(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    easycars.control.add_fault(UPDATE, "code", code=7, message="Lead is locked.", count=1)
    lead = _edit(lead, django_capture_on_commit_callbacks, rating="warm")
    assert lead.sync_state == Lead.SyncState.FAILED
    assert "Lead is locked." in lead.sync_error

    _retry(lead, django_capture_on_commit_callbacks)
    assert easycars.control.leads()[0]["Rating"] == 2


def test_stale_editor_save_keeps_the_lead_number(easycars, dealership, vehicle, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        lead = LeadFactory(dealership=dealership, vehicle=vehicle, data_source=Lead.DataSource.MANUAL)
    stale = Lead.objects.get(pk=lead.pk)  # an editor opened the lead before it was pushed
    assert tasks.push_lead(lead.pk) == "sent"

    stale.message = "Prefers a call after 5pm"
    with django_capture_on_commit_callbacks(execute=True):
        stale.save()

    lead.refresh_from_db()
    assert lead.easycars_lead_number == easycars.control.leads()[0]["LeadNumber"]
    assert len(_received(easycars)) == 1
    [update] = _received(easycars, UPDATE)
    assert update["Notes"] == "Prefers a call after 5pm"


def test_lead_edited_while_its_push_was_in_flight_is_sent_again(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        lead = LeadFactory(dealership=dealership, vehicle=vehicle, data_source=Lead.DataSource.MANUAL)
    context = PushContext()
    [push], _ = prepare_pushes(dealership.pk, [lead.pk], context=context)
    with lead_sync.client_for(dealership) as client:
        push.send(client)
    edited = Lead.objects.get(pk=lead.pk)
    edited.rating = "hot"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        edited.save()  # the editor's save lands mid-flight: the lead is pending already, nothing queued
    assert not outbox_callbacks(callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert record_pushes([push], context=context) == {"sent": 1}

    [update] = _received(easycars, UPDATE)
    assert update["Rating"] == 3


# Tenants ---------------------------------------------------------------------------------------


def test_each_dealership_pushes_with_its_own_credentials(easycars, django_capture_on_commit_callbacks):
    second = easycars.accounts[1]
    dealership_a = CredentialFactory().dealership
    dealership_b = CredentialFactory(
        dealership=DealershipFactory(),
        client_id=second.client_id,
        client_secret=second.client_secret,
        account_number=second.account_number,
        account_secret=second.account_secret,
    ).dealership
    leads = {}
    for dealership in (dealership_a, dealership_b, dealership_a):
        vehicle = EasyCarsVehicleFactory(dealership=dealership)
        lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
        leads.setdefault(dealership.pk, []).append(str(lead.external_id))

    account_a = [body["ExternalID"] for body in _received(easycars, account=1)]
    account_b = [body["ExternalID"] for body in _received(easycars, account=2)]
    assert account_a == leads[dealership_a.pk]
    assert account_b == leads[dealership_b.pk]


def test_pushing_pending_leads_touches_only_that_dealership(easycars, django_capture_on_commit_callbacks):
    dealership_a = CredentialFactory().dealership
    dealership_b = CredentialFactory(dealership=DealershipFactory()).dealership
    with django_capture_on_commit_callbacks(execute=False):
        for dealership in (dealership_a, dealership_a, dealership_b):
            LeadFactory(dealership=dealership, vehicle=EasyCarsVehicleFactory(dealership=dealership))

    assert lead_sync.push_pending_leads(dealership_a) == {"sent": 2}

    assert Lead.objects.filter(dealership=dealership_b, sync_state=Lead.SyncState.PENDING).count() == 1
    assert len(_received(easycars)) == 2


# The vehicle page URL --------------------------------------------------------------------------


def vehicle_url_for_tests(vehicle):
    return f"https://dealer.example/cars/{vehicle.pk}/"


def broken_vehicle_url(vehicle):
    raise RuntimeError("page tree unavailable")


def test_vehicle_page_url_comes_from_the_configured_hook(
    easycars, settings, dealership, vehicle, django_capture_on_commit_callbacks
):
    hook = {"VEHICLE_URL_FUNCTION": "tests.leads.test_push.vehicle_url_for_tests"}
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, **hook}
    _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    [body] = _received(easycars)
    assert body["VehicleSourcePageURL"] == f"https://dealer.example/cars/{vehicle.pk}/"


def test_failing_url_hook_does_not_stop_the_lead(
    easycars, settings, dealership, vehicle, django_capture_on_commit_callbacks
):
    hook = {"VEHICLE_URL_FUNCTION": "tests.leads.test_push.broken_vehicle_url"}
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, **hook}
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    [body] = _received(easycars)
    assert "VehicleSourcePageURL" not in body
    assert lead.sync_state == Lead.SyncState.SENT


# Customers without an email ---------------------------------------------------------------------


def test_phone_only_enquiry_is_sent_for_the_easycars_customer_with_that_phone(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    first = _enquiry(
        django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle, phone="", mobile="0411222333"
    )
    lead = _enquiry(
        django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle, email="", phone="0411222333"
    )

    assert lead.sync_state == Lead.SyncState.SENT
    body = _received(easycars)[-1]
    assert body["LeadCustomer"] == {"CustomerNo": first.easycars_customer_no}
    assert lead.easycars_customer_no == first.easycars_customer_no


def test_phone_only_enquiry_from_a_new_customer_asks_for_an_email(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    lead = _enquiry(
        django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle, email="", phone="0499888777"
    )
    assert lead.sync_state == Lead.SyncState.FAILED
    assert "Add the customer's email address" in lead.sync_error
    assert lead.push_started_at is None
    assert not _received(easycars)

    lead.email = "found@example.com"
    lead.save()
    _retry(lead, django_capture_on_commit_callbacks)
    assert _received(easycars)[0]["LeadCustomer"]["Email"] == "found@example.com"


# Admin retry -------------------------------------------------------------------------------------


def test_retry_of_a_sent_lead_does_nothing(easycars, dealership, vehicle, django_capture_on_commit_callbacks):
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    assert retry_lead(lead) is False


def test_retry_of_a_lead_waiting_for_its_back_off_sends_it_now(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    # Down before anything was sent (no token), so nothing needs checking.
    easycars.control.add_fault("LeadService/RequestToken", "http_error", status=503, count=4)
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    assert lead.sync_state == Lead.SyncState.PENDING

    assert LeadClaim.objects.get(lead=lead).backoff

    _retry(lead, django_capture_on_commit_callbacks, UserFactory())

    assert not LeadClaim.objects.filter(lead=lead).exists()
    assert len(_received(easycars)) == 1
    log = SyncLog.objects.filter(direction="outbound", status="success").get()
    assert log.trigger == SyncLog.Trigger.MANUAL
    assert log.triggered_by is not None


# From the public site ----------------------------------------------------------------------------


def test_enquiry_on_a_vehicle_page_reaches_easycars_with_the_page_url(
    easycars, client, listing_page, showroom_dealership, django_capture_on_commit_callbacks
):
    CredentialFactory(dealership=showroom_dealership)
    vehicle = EasyCarsVehicleFactory(dealership=showroom_dealership, title="2021 Mazda CX-5 Akera", make="Mazda")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/vehicles/{vehicle.slug}/", enquiry_form())
    assert response.status_code == 302

    [body] = _received(easycars)
    assert body["LeadCustomer"] == {"Name": "Alex Shopper", "Email": "alex@example.com"}
    assert body["VehicleInterest"] == 4
    assert body["FinanceStatus"] == 3
    assert body["VehicleSourcePageURL"].endswith(f"/vehicles/{vehicle.slug}/")
    lead = Lead.objects.get()
    assert lead.easycars_lead_number == easycars.control.leads()[0]["LeadNumber"]


def test_enquiry_is_kept_when_the_queue_is_down_and_the_sweeper_sends_it(
    easycars, dealership, vehicle, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("django_q.tasks.async_task", broker_down)
    lead = _enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)  # no exception
    assert lead.sync_state == Lead.SyncState.PENDING
    monkeypatch.undo()
    Lead.objects.filter(pk=lead.pk).update(updated_at=timezone.now() - timedelta(minutes=10))

    assert tasks.sweep_pending_leads() == 1

    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.SENT
    assert len(_received(easycars)) == 1
