"""kill -9 of a real django-q2 worker mid-run: nothing is lost, duplicated or stuck afterwards.

Each test starts a real cluster (``qcluster``) against the test database and the sandbox over
loopback, lets it get part-way, kills its whole process group with SIGKILL, starts a fresh one
and checks the end state through the database and the sandbox's own records.
"""

import time

import pytest
from django.db.models import Count

from wagtail_easycars import tasks
from wagtail_easycars.models import Lead, SyncLog, Vehicle, VehicleImage
from wagtail_easycars.sync.stock.runs import request_stock_sync

from ..factories import CredentialFactory, VehicleFactory
from .conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

#: Seconds a lease lasts here: a dead worker's run is recognised quickly, a live one renews in time.
LEASE_SECONDS = 6


@pytest.fixture
def fault_settings(settings, easycars):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "SYNC_LEASE_SECONDS": LEASE_SECONDS}
    return easycars


def stock_run(dealership):
    return SyncLog.objects.filter(dealership=dealership, sync_type=SyncLog.SyncType.STOCK)


def finished(log_id):
    log = SyncLog.objects.get(pk=log_id)
    return log if log.status != SyncLog.Status.IN_PROGRESS else None


def expected_galleries(control):
    """{stock number: number of photo URLs} as the sandbox lists them now."""
    return {item["StockNumber"]: len([u for u in item["ImageURLs"].split(",") if u]) for item in control.stock()}


def assert_stock_whole(dealership, control):
    """Every vehicle once, each with its whole gallery, nothing left marked as needing photo work."""
    galleries = expected_galleries(control)
    vehicles = Vehicle.objects.filter(dealership=dealership)
    numbers = list(vehicles.values_list("easycars_stock_number", flat=True))
    assert sorted(numbers) == sorted(galleries), "a vehicle was lost or duplicated"
    counts = dict(vehicles.annotate(photos=Count("images")).values_list("easycars_stock_number", "photos"))
    missing = {number: (counts[number], wanted) for number, wanted in galleries.items() if counts[number] != wanted}
    assert missing == {}, f"vehicles without their whole gallery: {missing}"
    hashes = set(VehicleImage.objects.filter(vehicle__dealership=dealership).values_list("content_hash", flat=True))
    assert len(hashes) == VehicleImage.objects.filter(vehicle__dealership=dealership).count()


def run_to_the_end(dealership, worker):
    log, started = request_stock_sync(dealership)
    assert started
    return wait_for(lambda: finished(log.pk), "the stock run to finish", worker=worker)


def kill_and_recover(dealership, first_worker, start_worker, control):
    """Kill the worker, let its lease lapse, run again on a fresh worker; returns (dead run, new run)."""
    first_worker.kill()
    dead = stock_run(dealership).get(status=SyncLog.Status.IN_PROGRESS)
    control.clear_image_faults()
    control.clear_faults()
    worker = start_worker()
    # A trigger while the dead run's lease still holds joins it; once it lapses a new run starts.
    wait_for(lambda: request_stock_sync(dealership)[1], "a new run to start after the lease lapsed", seconds=30)
    new = stock_run(dealership).exclude(pk=dead.pk).latest("started_at")
    new = wait_for(lambda: finished(new.pk), "the recovery run to finish", worker=worker)
    return SyncLog.objects.get(pk=dead.pk), new


def test_worker_killed_during_the_photo_phase_leaves_no_gallery_behind(fault_settings, start_worker):
    control = fault_settings.control
    control.reset(stock=40, seed=5, yards=1, accounts=1)
    control.add_image_fault("*", "slow", ms=120)  # a slow CDN: the photo phase takes several seconds
    dealership = CredentialFactory().dealership
    worker = start_worker()
    log, started = request_stock_sync(dealership)
    assert started
    wait_for(
        lambda: SyncLog.objects.filter(pk=log.pk, images_downloaded__gte=15).exists(),
        "the photo phase to be under way",
        worker=worker,
    )
    dead, new = kill_and_recover(dealership, worker, start_worker, control)
    assert dead.status == SyncLog.Status.FAILED
    assert new.status == SyncLog.Status.SUCCESS, (new.error_message, new.warnings, new.item_failures)
    assert_stock_whole(dealership, control)


def test_worker_killed_while_writing_stock_leaves_no_vehicle_behind(fault_settings, start_worker):
    control = fault_settings.control
    control.reset(stock=800, seed=6, yards=1, accounts=1)
    for item in control.stock():  # one photo each: the recovery run stays short
        control.set_images(item["StockNumber"], count=1, variant="k")
    dealership = CredentialFactory().dealership
    worker = start_worker()
    log, started = request_stock_sync(dealership)
    assert started
    # As soon as the worker is inside the run (stock rows or photos), pull the plug.
    wait_for(
        lambda: SyncLog.objects.filter(pk=log.pk, records_total__gt=0).exists(),
        "the worker to be inside the stock run",
        worker=worker,
        interval=0.02,
    )
    dead, new = kill_and_recover(dealership, worker, start_worker, control)
    assert dead.status == SyncLog.Status.FAILED
    assert new.status == SyncLog.Status.SUCCESS, new.error_message
    assert_stock_whole(dealership, control)
    # And the next run has nothing left to do: the recovery really finished the work.
    again = run_to_the_end(dealership, start_worker())
    assert again.images_downloaded == 0
    assert again.records_created == again.records_updated == 0


def test_worker_killed_mid_lead_push_sends_each_enquiry_once(fault_settings, settings, start_worker):
    # Reconciliation may look again after a short quiet period here (minutes in production).
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "LEAD_RECONCILE_QUIET_SECONDS": 2}
    control = fault_settings.control
    control.reset(stock=3, seed=7, yards=1, accounts=1)
    dealership = CredentialFactory().dealership
    # EasyCars takes 3 s to answer CreateLead; the worker dies while it waits, EasyCars carries on.
    control.add_fault("CreateLead", "latency", ms=3000, count=1)
    worker = start_worker(timeout=20, retry=25)
    lead = Lead.objects.create(
        dealership=dealership,
        vehicle=VehicleFactory(dealership=dealership),
        name="Jo Citizen",
        email="jo@example.com",
        message="Is it still available?",
    )
    # push_started_at is committed just before CreateLead goes out; give the request time to leave.
    wait_for(
        lambda: Lead.objects.filter(pk=lead.pk, push_started_at__isnull=False).exists(),
        lambda: f"the push to start ({Lead.objects.filter(pk=lead.pk).values().first()})",
        worker=worker,
        interval=0.05,
    )
    time.sleep(0.5)
    worker.kill()
    wait_for(lambda: len(control.leads()) == 1, "EasyCars to finish the create the dead worker sent", seconds=15)

    worker = start_worker(timeout=20, retry=25)
    # The sweeper is what finds a lead whose push died with its worker.
    wait_for(
        lambda: (
            tasks.sweep_pending_leads() is not None
            and Lead.objects.filter(pk=lead.pk, sync_state=Lead.SyncState.SENT).exists()
        ),
        "the lead to be sent (or adopted) after the crash",
        worker=worker,
        interval=1.0,
    )
    lead.refresh_from_db()
    assert len(control.leads()) == 1, "the enquiry reached EasyCars twice"
    assert lead.easycars_lead_number == control.leads()[0]["LeadNumber"]
