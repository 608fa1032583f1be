"""Inbound lead refresh and lead sync runs, against the sandbox over loopback."""

import json

import pytest
from django.core.management import CommandError, call_command

from wagtail_easycars import tasks
from wagtail_easycars.client.contract import LeadCustomer, UpdateLeadRequest
from wagtail_easycars.client.http import EasyCarsClient
from wagtail_easycars.models import FieldChange, Lead, SyncLog
from wagtail_easycars.sync.leads import runs as lead_runs

from ..factories import CredentialFactory, EasyCarsVehicleFactory, LeadFactory, UserFactory
from .test_push import outbox_callbacks

pytestmark = pytest.mark.django_db


@pytest.fixture
def dealership(easycars):
    return CredentialFactory().dealership


def _sent_lead(dealership, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(
            dealership=dealership,
            vehicle=EasyCarsVehicleFactory(dealership=dealership),
            data_source=Lead.DataSource.WEBFORM,
            **kwargs,
        )
    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.SENT
    return lead


def _sync(django_capture_on_commit_callbacks, dealership, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        log, started = lead_runs.request_lead_sync(dealership, **kwargs)
    assert started
    log.refresh_from_db()
    return log


def _updates_received(sandbox):
    return [json.loads(e["body"]) for e in sandbox.control.received() if e["endpoint"] == "LeadService/UpdateLead"]


def test_refresh_applies_easycars_changes_and_records_them(easycars, dealership, django_capture_on_commit_callbacks):
    lead = _sent_lead(dealership, django_capture_on_commit_callbacks, rating="cold")
    with EasyCarsClient(easycars.account) as client:  # a salesperson works the lead in EasyCars
        client.update_lead(UpdateLeadRequest(lead.easycars_lead_number, rating=3, notes="Booked a test drive"))

    log = _sync(django_capture_on_commit_callbacks, dealership)

    lead.refresh_from_db()
    assert lead.rating == "hot"
    assert lead.message == "Booked a test drive"
    assert lead.last_synced_from_easycars is not None
    assert lead.easycars_raw_data["LeadNumber"] == lead.easycars_lead_number
    changes = {c.field: (c.old_value, c.new_value) for c in FieldChange.objects.filter(lead=lead)}
    assert changes == {"rating": ("cold", "hot"), "message": ("Is this car still available?", "Booked a test drive")}
    assert all(c.sync_log_id == log.pk for c in FieldChange.objects.filter(lead=lead))
    assert (log.status, log.sync_type, log.direction) == (SyncLog.Status.SUCCESS, "lead", "inbound")
    assert (log.records_total, log.records_updated, log.records_unchanged) == (1, 1, 0)


def test_refreshed_values_are_not_pushed_back(easycars, dealership, django_capture_on_commit_callbacks):
    lead = _sent_lead(dealership, django_capture_on_commit_callbacks)
    with EasyCarsClient(easycars.account) as client:
        client.update_lead(UpdateLeadRequest(lead.easycars_lead_number, finance_status=1))

    _sync(django_capture_on_commit_callbacks, dealership)

    lead.refresh_from_db()
    assert lead.finance_status == "yes"
    assert lead.sync_state == Lead.SyncState.SENT
    assert len(_updates_received(easycars)) == 1  # only the salesperson's own update


def test_refresh_never_invents_a_status(easycars, dealership, django_capture_on_commit_callbacks):
    lead = _sent_lead(dealership, django_capture_on_commit_callbacks)
    with EasyCarsClient(easycars.account) as client:
        client.update_lead(UpdateLeadRequest(lead.easycars_lead_number, lead_status=50))

    _sync(django_capture_on_commit_callbacks, dealership)

    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW
    assert not FieldChange.objects.filter(lead=lead, field="status").exists()


def test_customer_details_from_easycars_are_applied(easycars, dealership, django_capture_on_commit_callbacks):
    lead = _sent_lead(dealership, django_capture_on_commit_callbacks, name="Jo Citizen", email="jo@example.com")
    with EasyCarsClient(easycars.account) as client:
        client.update_lead(
            UpdateLeadRequest(
                lead.easycars_lead_number,
                customer=LeadCustomer(name="Joanne Citizen", email="joanne@example.com", city="Penrith"),
            )
        )

    _sync(django_capture_on_commit_callbacks, dealership)

    lead.refresh_from_db()
    assert (lead.name, lead.email, lead.city) == ("Joanne Citizen", "joanne@example.com", "Penrith")
    assert lead.easycars_customer_no == easycars.control.leads()[0]["CustomerNo"]


def test_unsent_local_edit_wins_over_the_refresh(easycars, dealership, django_capture_on_commit_callbacks):
    lead = _sent_lead(dealership, django_capture_on_commit_callbacks)
    with EasyCarsClient(easycars.account) as client:
        client.update_lead(UpdateLeadRequest(lead.easycars_lead_number, rating=1, notes="From EasyCars"))
    easycars.control.add_fault("LeadService/UpdateLead", "http_error", status=503)
    lead.rating = "hot"  # edited here while EasyCars refuses updates
    with django_capture_on_commit_callbacks(execute=True):
        lead.save()

    log = _sync(django_capture_on_commit_callbacks, dealership)  # the push fails again; the refresh runs

    assert log.response_summary["pushed"] == {"retry": 1}
    lead.refresh_from_db()
    assert lead.rating == "hot"
    assert lead.message == "From EasyCars"
    assert lead.sync_state == Lead.SyncState.PENDING


def test_a_failing_lead_is_reported_and_the_others_are_refreshed(
    easycars, dealership, django_capture_on_commit_callbacks
):
    good = _sent_lead(dealership, django_capture_on_commit_callbacks)
    lost = LeadFactory(dealership=dealership, data_source=Lead.DataSource.EASYCARS, easycars_lead_number="999999")
    with EasyCarsClient(easycars.account) as client:
        client.update_lead(UpdateLeadRequest(good.easycars_lead_number, rating=2))

    log = _sync(django_capture_on_commit_callbacks, dealership)

    assert log.status == SyncLog.Status.WARNING
    assert (log.records_total, log.records_updated, log.records_failed) == (2, 1, 1)
    [failure] = log.item_failures
    assert failure["ref"] == "999999"
    assert "999999" in failure["message"]
    good.refresh_from_db()
    assert good.rating == "warm"
    lost.refresh_from_db()
    assert lost.last_synced_from_easycars is None


def test_lead_number_entered_by_hand_is_filled_from_easycars_and_then_tracked(
    easycars, dealership, django_capture_on_commit_callbacks
):
    other = _sent_lead(dealership, django_capture_on_commit_callbacks, name="Sam Buyer", email="sam@example.com")
    number = other.easycars_lead_number
    Lead.objects.filter(pk=other.pk).delete()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lead = LeadFactory(dealership=dealership, data_source=Lead.DataSource.EASYCARS, easycars_lead_number=number)
    assert not outbox_callbacks(callbacks)

    _sync(django_capture_on_commit_callbacks, dealership)
    lead.refresh_from_db()
    assert (lead.name, lead.email) == ("Sam Buyer", "sam@example.com")

    lead.status = Lead.Status.WON
    with django_capture_on_commit_callbacks(execute=True):
        lead.save()
    assert _updates_received(easycars)[-1] == {
        "AccountNumber": "EC000001",
        "AccountSecret": "00000000-0000-0000-0000-000000000003",
        "LeadNumber": number,
        "LeadStatus": 50,
    }


def test_run_pushes_pending_leads_before_refreshing(easycars, dealership, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # queued pushes that never ran
        for _ in range(3):
            LeadFactory(dealership=dealership, vehicle=EasyCarsVehicleFactory(dealership=dealership))

    log = _sync(django_capture_on_commit_callbacks, dealership, user=UserFactory())

    assert log.response_summary["pushed"] == {"sent": 3}
    assert log.records_total == 3
    assert not Lead.objects.filter(sync_state=Lead.SyncState.PENDING).exists()
    assert SyncLog.objects.filter(direction="outbound", trigger=SyncLog.Trigger.MANUAL).count() == 3


def test_second_request_joins_the_running_sync(dealership):
    first, started = lead_runs.request_lead_sync(dealership)
    second, started_again = lead_runs.request_lead_sync(dealership)
    assert started
    assert not started_again
    assert second == first


def test_refused_credentials_fail_the_run_with_a_reason(easycars, django_capture_on_commit_callbacks):
    dealership = CredentialFactory(account_secret="00000000-0000-0000-0000-0000000000ff").dealership
    LeadFactory(dealership=dealership, data_source=Lead.DataSource.EASYCARS, easycars_lead_number="000001")

    log = _sync(django_capture_on_commit_callbacks, dealership)

    assert log.status == SyncLog.Status.FAILED
    assert "Account" in log.error_message
    assert "0000000000ff" not in json.dumps([log.error_message, log.error_details, log.item_failures])


def test_sync_all_leads_starts_one_run_per_syncing_dealership(easycars, django_capture_on_commit_callbacks):
    CredentialFactory()
    CredentialFactory(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sync_all_leads() == 1
    assert SyncLog.objects.filter(sync_type="lead", direction="inbound", status="success").count() == 1


def test_command_pushes_then_refreshes_now(easycars, dealership, django_capture_on_commit_callbacks, capsys):
    with django_capture_on_commit_callbacks(execute=False):
        LeadFactory(dealership=dealership, vehicle=EasyCarsVehicleFactory(dealership=dealership))

    call_command("easycars_sync_leads", "--dealership", dealership.slug, "--now")

    out = capsys.readouterr().out
    assert "pushed: 1 sent" in out
    assert "1 leads refreshed" in out
    assert Lead.objects.get().sync_state == Lead.SyncState.SENT


def test_command_queues_without_now(easycars, dealership, capsys):
    call_command("easycars_sync_leads", "--all")
    assert f"lead sync #{SyncLog.objects.get().pk} for {dealership.slug}" in capsys.readouterr().out


def test_command_rejects_an_unknown_dealership(easycars):
    with pytest.raises(CommandError, match="No dealership"):
        call_command("easycars_sync_leads", "--dealership", "nope", "--now")


def test_lead_number_that_points_at_another_enquiry_is_reported_not_applied(
    easycars, dealership, django_capture_on_commit_callbacks
):
    lead = _sent_lead(dealership, django_capture_on_commit_callbacks, name="Jo Citizen")
    other = _sent_lead(dealership, django_capture_on_commit_callbacks, name="Sam Buyer")
    # Someone typed the wrong number into a lead: it now points at Sam's enquiry in EasyCars.
    Lead.objects.filter(pk=other.pk).update(easycars_lead_number=None)
    Lead.objects.filter(pk=lead.pk).update(easycars_lead_number=other.easycars_lead_number)

    log = _sync(django_capture_on_commit_callbacks, dealership)

    lead.refresh_from_db()
    assert lead.name == "Jo Citizen"
    assert log.records_failed == 1
    assert "another enquiry" in log.item_failures[0]["message"]


def test_easycars_failing_for_one_lead_does_not_stop_the_others(
    easycars, dealership, settings, django_capture_on_commit_callbacks
):
    leads = [_sent_lead(dealership, django_capture_on_commit_callbacks) for _ in range(3)]
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "LEAD_PUSH_CONCURRENCY": 1}  # one call at a time
    easycars.control.add_fault("LeadService/GetLeadDetail", "http_error", status=500, count=4)  # all retries of one

    log = _sync(django_capture_on_commit_callbacks, dealership)

    assert (log.records_total, log.records_unchanged, log.records_failed) == (3, 2, 1)
    assert log.status == SyncLog.Status.WARNING
    assert sum(1 for lead in Lead.objects.filter(pk__in=[x.pk for x in leads]) if lead.last_synced_from_easycars) == 2
