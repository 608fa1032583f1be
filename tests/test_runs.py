from datetime import timedelta

import pytest
from django.utils import timezone

from wagtail_easycars.models import SyncLease, SyncLog
from wagtail_easycars.sync import runs

from .factories import DealershipFactory, SyncLogFactory

pytestmark = pytest.mark.django_db


def test_second_begin_joins_the_running_run():
    dealership = DealershipFactory()
    first, started = runs.begin_run(dealership, "stock", "inbound")
    second, started_again = runs.begin_run(dealership, "stock", "inbound")
    assert started
    assert not started_again
    assert second == first
    assert SyncLog.objects.count() == 1


def test_runs_of_different_dealerships_do_not_block_each_other():
    _, a = runs.begin_run(DealershipFactory(), "stock", "inbound")
    _, b = runs.begin_run(DealershipFactory(), "stock", "inbound")
    assert a
    assert b


def test_finished_run_releases_the_lease():
    dealership = DealershipFactory()
    log, _ = runs.begin_run(dealership, "stock", "inbound")
    recorder = runs.RunRecorder(log)
    recorder.set_total(3)
    recorder.count("records_processed", 3)
    recorder.count("records_created", 3)
    assert recorder.finish().status == SyncLog.Status.SUCCESS
    log.refresh_from_db()
    assert log.records_created == 3
    assert log.duration_ms is not None
    _, started = runs.begin_run(dealership, "stock", "inbound")
    assert started


def test_killed_worker_run_is_marked_failed_by_the_next_run():
    dealership = DealershipFactory()
    dead, _ = runs.begin_run(dealership, "stock", "inbound")
    # The worker dies: nobody renews the lease, and it expires.
    SyncLease.objects.filter(dealership=dealership).update(lease_until=timezone.now() - timedelta(seconds=1))
    new, started = runs.begin_run(dealership, "stock", "inbound")
    assert started
    assert new != dead
    dead.refresh_from_db()
    assert dead.status == SyncLog.Status.FAILED
    assert "stopped before finishing" in dead.error_message


def test_run_killed_after_a_cleanly_finished_run_is_recovered():
    dealership = DealershipFactory()
    finished, _ = runs.begin_run(dealership, "stock", "inbound")
    runs.RunRecorder(finished).finish()
    dead, started = runs.begin_run(dealership, "stock", "inbound")  # takes the released lease
    assert started
    SyncLease.objects.filter(dealership=dealership).update(lease_until=timezone.now() - timedelta(seconds=1))
    runs.begin_run(dealership, "stock", "inbound")
    dead.refresh_from_db()
    assert dead.status == SyncLog.Status.FAILED


def test_a_run_left_in_progress_without_a_lease_is_recovered_by_the_first_run():
    dealership = DealershipFactory()
    orphan = SyncLogFactory(dealership=dealership, status=SyncLog.Status.IN_PROGRESS, started_at=timezone.now())
    assert not SyncLease.objects.exists()
    _, started = runs.begin_run(dealership, "stock", "inbound")
    assert started
    orphan.refresh_from_db()
    assert orphan.status == SyncLog.Status.FAILED


def test_failures_make_a_warning_and_errors_a_failure():
    dealership = DealershipFactory()
    log, _ = runs.begin_run(dealership, "lead", "outbound")
    recorder = runs.RunRecorder(log)
    recorder.add_failure("item", "12", "Price is not a number")
    assert recorder.finish().status == SyncLog.Status.WARNING
    log, _ = runs.begin_run(dealership, "lead", "outbound")
    assert runs.RunRecorder(log).fail(RuntimeError("EasyCars is down")).status == SyncLog.Status.FAILED


def test_recorded_failures_are_bounded():
    log, _ = runs.begin_run(DealershipFactory(), "stock", "inbound")
    recorder = runs.RunRecorder(log)
    for i in range(runs.MAX_RECORDED_FAILURES + 50):
        recorder.add_failure("item", i, "bad")
    assert len(log.item_failures) == runs.MAX_RECORDED_FAILURES + 1
