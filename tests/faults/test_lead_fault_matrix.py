"""Every sandbox fault kind on every endpoint a lead push calls, before and after EasyCars did the work.

Whatever goes wrong once, the enquiry ends up in EasyCars exactly once (or, when EasyCars refused
it, not at all and the lead says why): never twice, never lost, never stuck. Time travels by
moving the lead's timestamps back past the reconciliation quiet period (docs/leads.md).
"""

import time
from datetime import timedelta

import pytest
from django.test import override_settings

from wagtail_easycars import tasks
from wagtail_easycars.conf import get_setting
from wagtail_easycars.models import Lead

from ..factories import CredentialFactory, EasyCarsVehicleFactory, LeadFactory

pytestmark = pytest.mark.django_db

#: Every fault kind, EasyCars' own codes included; ``after``: whether EasyCars may have done the work first.
FAULTS = [
    ("late_answer", {"ms": 1200}, True),
    ("latency", {"ms": 1200}, False),  # beyond the read timeout, before the work
    ("http_error", {"status": 500}, True),
    ("http_error", {"status": 502}, True),
    ("http_error", {"status": 503}, True),
    ("http_error", {"status": 504}, True),
    ("rate_limit", {"retry_after": 0}, True),
    ("code", {"code": 9, "message": "System error."}, True),
    ("code", {"code": 1, "message": "Authentication fail."}, False),
    ("code", {"code": 5, "message": "Failed."}, False),
    ("malformed", {}, True),
    ("truncated", {}, True),
    ("drop", {}, True),
]
CASES = [
    pytest.param(kind, params, process, id=f"{kind}{params.get('status') or params.get('code') or ''}-{when}")
    for kind, params, after in FAULTS
    for process, when in ([(False, "before"), (True, "after")] if after else [(False, "before")])
]


@pytest.fixture
def vehicle(easycars):
    dealership = CredentialFactory().dealership
    return EasyCarsVehicleFactory(dealership=dealership, make="MAZDA", model="3", year=2021, price=31990)


@pytest.fixture(autouse=True)
def quick_timeouts(settings, easycars):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "READ_TIMEOUT": 0.4, "MAX_RETRIES": 1}


def settle_time(params):
    """How long after a fault EasyCars may still be doing the work (a slow or late answer)."""
    return params.get("ms", 0) / 1000 + 0.2


def quiet_period_passes(lead):
    back = timedelta(seconds=get_setting("LEAD_RECONCILE_QUIET_SECONDS") + 1)
    lead.refresh_from_db()
    Lead.objects.filter(pk=lead.pk).update(
        push_started_at=lead.push_started_at and lead.push_started_at - back,
        reconcile_checked_at=lead.reconcile_checked_at and lead.reconcile_checked_at - back,
    )


def push_until_at_rest(lead, attempts=8, settle=0.0):
    """Run the push the way its retries and the sweeper would, until the lead is sent or failed.

    ``settle``: seconds EasyCars may still be working on a request the client gave up on. The
    quiet period exists because EasyCars finishes within it, so time travels past it only once
    that much real time has passed (in production the quiet period is minutes).
    """
    for _ in range(attempts):
        lead.refresh_from_db()
        if lead.sync_state in (Lead.SyncState.SENT, Lead.SyncState.FAILED):
            return lead
        time.sleep(settle)
        quiet_period_passes(lead)
        tasks.push_lead(lead.pk)
    lead.refresh_from_db()
    return lead


def enquiry(vehicle, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(data_source=Lead.DataSource.WEBFORM, dealership=vehicle.dealership, vehicle=vehicle)
    return lead


def assert_in_easycars_once_or_refused(easycars, lead):
    stored = [
        row for row in easycars.control.leads() if str(row.get("ExternalID", "")).lower() == str(lead.external_id)
    ]
    if lead.sync_state == Lead.SyncState.SENT:
        assert len(stored) == 1, f"{len(stored)} EasyCars leads for one enquiry"
        assert lead.easycars_lead_number == stored[0]["LeadNumber"]
    else:
        assert lead.sync_state == Lead.SyncState.FAILED, lead.sync_error
        assert stored == [], "EasyCars has the lead, yet it is marked failed"
        assert lead.sync_error


@pytest.mark.parametrize(("kind", "params", "process"), CASES)
def test_create_fault_sends_the_enquiry_once(
    easycars, vehicle, kind, params, process, django_capture_on_commit_callbacks
):
    easycars.control.add_fault("LeadService/CreateLead", kind, count=1, process=process, **params)
    lead = push_until_at_rest(enquiry(vehicle, django_capture_on_commit_callbacks), settle=settle_time(params))
    assert_in_easycars_once_or_refused(easycars, lead)
    if not (kind == "code" and params["code"] == 5):  # EasyCars refusing the lead is the one final answer
        assert lead.sync_state == Lead.SyncState.SENT, lead.sync_error


@pytest.mark.parametrize(("kind", "params", "process"), CASES)
def test_update_fault_reaches_easycars_once(
    easycars, vehicle, kind, params, process, django_capture_on_commit_callbacks
):
    lead = push_until_at_rest(enquiry(vehicle, django_capture_on_commit_callbacks))
    assert lead.sync_state == Lead.SyncState.SENT
    easycars.control.add_fault("LeadService/UpdateLead", kind, count=1, process=process, **params)
    with django_capture_on_commit_callbacks(execute=True):
        lead.status = Lead.Status.WON
        lead.message = "Sold to this customer."
        lead.save()
    lead = push_until_at_rest(lead, settle=settle_time(params))
    [stored] = easycars.control.leads()
    if lead.sync_state == Lead.SyncState.SENT:
        assert stored["LeadNumber"] == lead.easycars_lead_number
        assert lead.synced_values.get("message") == "Sold to this customer."
    else:  # refused by EasyCars: the editor is told, nothing was duplicated
        assert (kind, params.get("code")) == ("code", 5), lead.sync_error
        assert lead.sync_error


@pytest.mark.parametrize(("kind", "params", "process"), [c for c in CASES if "before" in c.id])
@pytest.mark.parametrize(
    "endpoint", ["LeadService/RequestToken", "LeadService/GetLeadDetail", "LeadService/SearchContacts"]
)
def test_a_fault_while_sending_or_reconciling_never_duplicates(
    easycars, vehicle, endpoint, kind, params, process, django_capture_on_commit_callbacks
):
    # A create whose answer is lost first, so reconciliation (GetLeadDetail, SearchContacts) runs too.
    easycars.control.add_fault("LeadService/CreateLead", "drop", count=1, process=True)
    easycars.control.add_fault(f"LeadService/{endpoint}", kind, count=1, **params)
    with override_settings(WAGTAIL_EASYCARS={**get_setting_dict(), "LEAD_RECONCILE_QUIET_SECONDS": 60}):
        lead = push_until_at_rest(enquiry(vehicle, django_capture_on_commit_callbacks))
    assert_in_easycars_once_or_refused(easycars, lead)
    if (endpoint, kind, params.get("code")) != ("RequestToken", "code", 5):  # a refused token request is final
        assert lead.sync_state == Lead.SyncState.SENT, lead.sync_error


def get_setting_dict():
    from django.conf import settings

    return dict(settings.WAGTAIL_EASYCARS)
