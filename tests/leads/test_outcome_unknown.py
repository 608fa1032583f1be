"""A CreateLead whose outcome is unknown is never sent twice (docs/leads.md), against the sandbox over loopback.

Only a refused connection proves EasyCars did nothing. A timeout, a dropped connection, HTTP 429
or any 5xx after sending may come after EasyCars (or a gateway in front of it) did the work, or
before EasyCars finishes it: the lead waits a quiet period, and is sent again only after two
scans, a quiet period apart, found nothing. Time travels by moving the lead's timestamps back.
"""

import base64
import json
import socket
import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule

from wagtail_easycars import tasks
from wagtail_easycars.conf import get_setting
from wagtail_easycars.models import Lead, LeadClaim, SyncLog
from wagtail_easycars.sync.leads import delivery
from wagtail_easycars.sync.leads import runs as lead_runs

from ..factories import CredentialFactory, DealershipFactory, EasyCarsVehicleFactory, LeadFactory

pytestmark = pytest.mark.django_db

CREATE = "LeadService/CreateLead"
DETAIL = "LeadService/GetLeadDetail"
CONTACTS = "LeadService/SearchContacts"
WAITING = "Waiting to confirm EasyCars did not receive it"
#: The sandbox's account 1, as the CredentialFactory stores it.
SECRETS = ("00000000-0000-0000-0000-000000000002", "00000000-0000-0000-0000-000000000003")


@pytest.fixture
def dealership(easycars):
    return CredentialFactory().dealership


@pytest.fixture
def vehicle(dealership):
    return EasyCarsVehicleFactory(dealership=dealership, make="VOLVO", model="V90", year=2020, price=65000)


def easycars_settings(**changes):
    """``override_settings`` of WAGTAIL_EASYCARS, keeping what the fixtures set."""
    from django.conf import settings

    return override_settings(WAGTAIL_EASYCARS={**settings.WAGTAIL_EASYCARS, **changes})


def enquiry(django_capture_on_commit_callbacks, **kwargs):
    """Save a lead as the public form does, and run its push (queued after the commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(data_source=Lead.DataSource.WEBFORM, **kwargs)
    lead.refresh_from_db()
    return lead


def creates_received(sandbox):
    """CreateLead bodies the sandbox processed (recorded as it does the work, before any late answer)."""
    return [json.loads(entry["body"]) for entry in sandbox.control.received() if entry["endpoint"] == CREATE]


def wait_for(condition, what, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}")
        time.sleep(0.05)


def quiet_period_passes(lead):
    """Time travel: the create and the last scan that found nothing lie a quiet period (and a second) back."""
    lead.refresh_from_db()
    back = timedelta(seconds=get_setting("LEAD_RECONCILE_QUIET_SECONDS") + 1)
    Lead.objects.filter(pk=lead.pk).update(
        push_started_at=lead.push_started_at and lead.push_started_at - back,
        reconcile_checked_at=lead.reconcile_checked_at and lead.reconcile_checked_at - back,
    )


def assert_waiting(lead):
    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.PENDING
    assert WAITING in lead.sync_error
    assert lead.push_started_at is not None
    claim = LeadClaim.objects.get(lead=lead)
    assert claim.backoff  # the sweeper leaves it alone until the next look is due


def assert_nothing_sent_early(sandbox, lead, dealership):
    """Every way a push comes round before the quiet period ends neither sends nor looks."""
    looked = sandbox.control.count(DETAIL) + sandbox.control.count(CONTACTS)
    creates = len(creates_received(sandbox))
    assert tasks.push_lead(lead.pk) == "waiting"  # a duplicate task, or the retry firing early
    Lead.objects.filter(pk=lead.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert tasks.sweep_pending_leads() == 0
    assert delivery.push_pending_leads(dealership, trigger=SyncLog.Trigger.MANUAL) == {"waiting": 1}
    assert sandbox.control.count(DETAIL) + sandbox.control.count(CONTACTS) == looked
    assert len(creates_received(sandbox)) == creates
    assert_waiting(lead)


def assert_retry_after_the_quiet_period(lead):
    retry = Schedule.objects.get(name=f"wagtail_easycars:lead-retry:{lead.pk}")
    quiet = timedelta(seconds=get_setting("LEAD_RECONCILE_QUIET_SECONDS"))
    assert retry.func == "wagtail_easycars.tasks.push_lead"
    assert retry.next_run >= lead.push_started_at + quiet - timedelta(seconds=1)


def assert_adopted_once(sandbox, lead):
    assert tasks.push_lead(lead.pk) == "reconciled"
    lead.refresh_from_db()
    [stored] = sandbox.control.leads()
    assert len(creates_received(sandbox)) == 1
    assert lead.sync_state == Lead.SyncState.SENT
    assert lead.sync_error == ""
    assert lead.easycars_lead_number == stored["LeadNumber"]
    assert (lead.push_started_at, lead.reconcile_misses, lead.reconcile_checked_at) == (None, 0, None)
    assert SyncLog.objects.filter(direction="outbound", response_summary__reconciled=True).count() == 1


# EasyCars did the work, the answer proved nothing -----------------------------------------------


@pytest.mark.parametrize("when", ["processed_then_answered_late", "processed_after_the_client_gave_up"])
def test_create_processed_then_answered_late_is_not_sent_twice(
    easycars, dealership, vehicle, when, django_capture_on_commit_callbacks
):
    if when == "processed_then_answered_late":
        easycars.control.answer_late(CREATE, 1500)
    else:  # EasyCars is still working on it when the next attempt looks
        easycars.control.add_fault(CREATE, "latency", ms=1500, count=1)
    with easycars_settings(READ_TIMEOUT=0.3):
        lead = enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
        assert_waiting(lead)
        assert_retry_after_the_quiet_period(lead)
        assert_nothing_sent_early(easycars, lead, dealership)

        wait_for(lambda: len(easycars.control.leads()) == 1, "EasyCars to finish the create")
        quiet_period_passes(lead)
        assert_adopted_once(easycars, lead)
    assert len(easycars.control.leads()) == 1


def create_processed_then_fails_twice(sandbox, status, dealership, vehicle, callbacks):
    sandbox.control.fail_after_processing(CREATE, status, count=2)
    lead = enquiry(callbacks, dealership=dealership, vehicle=vehicle)
    assert len(sandbox.control.leads()) == 1  # the client did not retry it
    assert sandbox.control.count(CREATE) == 1
    assert_waiting(lead)
    failed = SyncLog.objects.get(direction="outbound", status=SyncLog.Status.FAILED)
    assert f"HTTP {status}" in failed.error_message
    assert_nothing_sent_early(sandbox, lead, dealership)

    quiet_period_passes(lead)
    assert_adopted_once(sandbox, lead)
    assert sandbox.control.count(CREATE) == 1


def test_create_processed_then_503_twice_makes_one_lead(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    create_processed_then_fails_twice(easycars, 503, dealership, vehicle, django_capture_on_commit_callbacks)


def test_create_processed_then_429_twice_makes_one_lead(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    create_processed_then_fails_twice(easycars, 429, dealership, vehicle, django_capture_on_commit_callbacks)


def test_create_processed_then_502_twice_makes_one_lead(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    create_processed_then_fails_twice(easycars, 502, dealership, vehicle, django_capture_on_commit_callbacks)


# EasyCars did nothing, the answer did not prove it -------------------------------------------------


def test_outcome_unknown_waits_for_the_quiet_period_and_two_empty_scans_before_resending(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    control = easycars.control
    control.add_fault(CREATE, "http_error", status=504, count=1)  # a gateway gave up; EasyCars never saw it
    with easycars_settings(LEAD_RECONCILE_QUIET_SECONDS=600):
        lead = enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
        assert_waiting(lead)
        assert_nothing_sent_early(easycars, lead, dealership)

        # Almost a quiet period later: still not looked for.
        Lead.objects.filter(pk=lead.pk).update(push_started_at=lead.push_started_at - timedelta(seconds=590))
        assert tasks.push_lead(lead.pk) == "waiting"
        assert control.count(DETAIL) == 0

        # The quiet period has passed: the first scan finds nothing, and nothing is sent.
        quiet_period_passes(lead)
        assert tasks.push_lead(lead.pk) == "waiting"
        lead.refresh_from_db()
        scans = control.count(DETAIL)
        assert scans > 0
        assert control.count(CONTACTS) == 0
        assert lead.reconcile_misses == 1
        assert lead.reconcile_checked_at is not None
        assert "checked once more" in lead.sync_error
        assert not creates_received(easycars)

        # Right after that scan: the second one waits a quiet period of its own.
        assert tasks.push_lead(lead.pk) == "waiting"
        Lead.objects.filter(pk=lead.pk).update(reconcile_checked_at=lead.reconcile_checked_at - timedelta(seconds=590))
        assert tasks.push_lead(lead.pk) == "waiting"
        assert control.count(DETAIL) == scans

        # The second scan finds nothing either, and EasyCars has no such customer: sent again, once.
        quiet_period_passes(lead)
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.push_lead(lead.pk) == "resend"
        lead.refresh_from_db()
        assert control.count(DETAIL) > scans
        assert control.count(CONTACTS) == 1
        assert lead.sync_state == Lead.SyncState.SENT
        [stored] = control.leads()
        assert lead.easycars_lead_number == stored["LeadNumber"]
        assert len(creates_received(easycars)) == 1
        assert control.count(CREATE) == 2
        assert (lead.push_started_at, lead.reconcile_misses, lead.reconcile_checked_at) == (None, 0, None)


def test_refused_connection_is_resent_at_once(
    easycars, settings, dealership, vehicle, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:  # a port nobody listens on: the connection is refused, nothing sent
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = {"test": f"http://127.0.0.1:{closed}/TestECService", "production": easycars.server.production_url}
    with easycars_settings(BASE_URLS=down):
        lead = enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    assert lead.sync_state == Lead.SyncState.PENDING
    assert "Not sent yet" in lead.sync_error
    assert WAITING not in lead.sync_error
    assert lead.push_started_at is None  # nothing to reconcile
    assert lead.reconcile_misses == 0
    retry = Schedule.objects.get(name=f"wagtail_easycars:lead-retry:{lead.pk}")
    quiet = timedelta(seconds=get_setting("LEAD_RECONCILE_QUIET_SECONDS"))
    assert retry.next_run < timezone.now() + quiet  # the ordinary back-off, not a quiet period

    assert tasks.push_lead(lead.pk) == "sent"

    assert easycars.control.count(DETAIL) == easycars.control.count(CONTACTS) == 0
    assert easycars.control.count(CREATE) == 1
    assert len(easycars.control.leads()) == 1


# Credentials this site cannot read -----------------------------------------------------------------


OTHER_KEY = base64.b64encode(b"o" * 32).decode()


@pytest.mark.parametrize(
    "keys",
    [
        {"other": OTHER_KEY},  # the key they were saved with is gone
        {"test-1": OTHER_KEY},  # same id, different key
    ],
    ids=["key-missing", "key-different"],
)
def test_push_with_undecryptable_credentials_backs_off_with_a_clear_error(
    easycars, dealership, vehicle, keys, caplog, django_capture_on_commit_callbacks
):
    with easycars_settings(ENCRYPTION_KEYS=keys):
        lead = enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
        lead.refresh_from_db()
        assert lead.sync_state == Lead.SyncState.PENDING
        assert "cannot be read with this site's encryption key" in lead.sync_error
        assert "Not sent yet" in lead.sync_error
        assert lead.sync_attempts == 1
        assert lead.push_started_at is None
        assert LeadClaim.objects.get(lead=lead).backoff
        assert Schedule.objects.filter(name=f"wagtail_easycars:lead-retry:{lead.pk}").exists()

        assert tasks.push_lead(lead.pk) == "retry"  # the retry, still with the wrong key
        lead.refresh_from_db()
        assert lead.sync_attempts == 2

        with django_capture_on_commit_callbacks(execute=True):
            log, started = lead_runs.request_lead_sync(dealership)
        assert started
        log.refresh_from_db()
        assert log.status == SyncLog.Status.FAILED
        assert "cannot be read with this site's encryption key" in log.error_message
    assert not easycars.control.received()
    shown = json.dumps([lead.sync_error, log.error_message, log.error_details, caplog.text])
    assert not any(secret in shown for secret in (*SECRETS, OTHER_KEY))

    # The right key is back: the next attempt sends it.
    assert tasks.push_lead(lead.pk) == "sent"
    assert len(easycars.control.leads()) == 1


def test_push_without_any_encryption_key_backs_off_with_a_clear_error(
    easycars, dealership, vehicle, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.delenv("EASYCARS_ENCRYPTION_KEY", raising=False)
    with easycars_settings(ENCRYPTION_KEYS={}):
        lead = enquiry(django_capture_on_commit_callbacks, dealership=dealership, vehicle=vehicle)
    assert lead.sync_state == Lead.SyncState.PENDING
    assert "cannot be read with this site's encryption key" in lead.sync_error
    assert not easycars.control.received()


def test_other_dealerships_leads_are_untouched_by_unreadable_credentials(
    easycars, dealership, vehicle, django_capture_on_commit_callbacks
):
    other = CredentialFactory(dealership=DealershipFactory()).dealership
    with easycars_settings(ENCRYPTION_KEYS={"other": OTHER_KEY}):
        with django_capture_on_commit_callbacks(execute=False):
            mine = LeadFactory(dealership=dealership, vehicle=vehicle, data_source=Lead.DataSource.WEBFORM)
            theirs = LeadFactory(dealership=other, vehicle=vehicle, data_source=Lead.DataSource.WEBFORM)
        assert delivery.push_pending_leads(dealership) == {"retry": 1}
    theirs.refresh_from_db()
    assert theirs.sync_error == ""
    assert not LeadClaim.objects.filter(lead=theirs).exists()
    assert LeadClaim.objects.get(lead=mine).backoff
