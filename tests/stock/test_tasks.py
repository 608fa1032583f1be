import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Schedule

from wagtail_easycars import jobs, tasks
from wagtail_easycars.models import EasyCarsCredential, SyncLease, SyncLog, Vehicle
from wagtail_easycars.sync import runs
from wagtail_easycars.sync.stock import runs as stock_runs
from wagtail_easycars.sync.stock import schedules

from ..factories import CredentialFactory, DealershipFactory, SyncLogFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dealership(sandbox_settings):
    return CredentialFactory().dealership


def test_requested_sync_runs_after_commit(dealership, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        log, started = stock_runs.request_stock_sync(dealership)
    assert started
    assert callbacks  # the run itself, then the search index update it queues
    log.refresh_from_db()
    assert log.status in (SyncLog.Status.SUCCESS, SyncLog.Status.WARNING)
    assert log.trigger == SyncLog.Trigger.MANUAL
    assert log.task_id
    assert Vehicle.objects.filter(dealership=dealership).count() == 20


def test_two_triggers_start_one_run(dealership, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first, started = stock_runs.request_stock_sync(dealership)
        second, started_again = stock_runs.request_stock_sync(dealership, trigger="schedule")
    assert started
    assert not started_again
    assert second == first
    assert len(callbacks) == 1
    assert SyncLog.objects.count() == 1


def test_a_killed_worker_leaves_no_permanent_lock(dealership, django_capture_on_commit_callbacks):
    dead, _ = runs.begin_run(dealership, "stock", "inbound")
    SyncLease.objects.update(lease_until=timezone.now() - dt.timedelta(seconds=1))  # the worker died
    with django_capture_on_commit_callbacks(execute=True):
        log, started = stock_runs.request_stock_sync(dealership)
    assert started
    dead.refresh_from_db()
    log.refresh_from_db()
    assert dead.status == SyncLog.Status.FAILED
    assert "stopped" in dead.error_message
    assert log.status != SyncLog.Status.IN_PROGRESS
    assert runs.running_log(dealership, "stock") is None


def test_redelivered_task_of_a_finished_run_does_nothing(dealership, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        log, _ = stock_runs.request_stock_sync(dealership)
    assert tasks.run_stock_sync(log.pk) is None
    assert SyncLog.objects.count() == 1


def test_task_that_waited_past_its_lease_starts_a_fresh_run(dealership, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        log, _ = stock_runs.request_stock_sync(dealership)
    SyncLease.objects.update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    status = tasks.run_stock_sync(log.pk)
    log.refresh_from_db()
    assert log.status == SyncLog.Status.FAILED
    assert status in (SyncLog.Status.SUCCESS, SyncLog.Status.WARNING)
    assert SyncLog.objects.filter(status=status).count() == 1


def _age_credentials(days=3):
    EasyCarsCredential.objects.update(created_at=timezone.now() - dt.timedelta(days=days))


def test_fan_out_starts_one_run_per_active_dealership(sandbox_settings, django_capture_on_commit_callbacks):
    active = [CredentialFactory().dealership for _ in range(2)]
    CredentialFactory(is_active=False)
    _age_credentials()
    with django_capture_on_commit_callbacks() as callbacks:
        assert tasks.sync_all_stock() == 2
    assert len(callbacks) == 2
    assert set(SyncLog.objects.values_list("dealership", flat=True)) == {d.pk for d in active}
    assert set(SyncLog.objects.values_list("trigger", flat=True)) == {"schedule"}


def test_missed_slots_collapse_into_one_run(sandbox_settings, django_capture_on_commit_callbacks):
    CredentialFactory()
    _age_credentials(days=10)  # ten daily slots have passed
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sync_all_stock() == 1
        assert tasks.sync_all_stock() == 0
    assert SyncLog.objects.count() == 1


def test_stock_slot_is_evaluated_in_each_dealerships_time_zone(sandbox_settings):
    sydney = CredentialFactory(dealership=DealershipFactory(timezone="Australia/Sydney")).dealership
    perth = CredentialFactory(dealership=DealershipFactory(timezone="Australia/Perth")).dealership
    now = dt.datetime(2026, 6, 1, 16, 30, tzinfo=dt.UTC)  # 2 June: 02:30 in Sydney, 00:30 in Perth
    EasyCarsCredential.objects.update(created_at=now - dt.timedelta(days=3))
    for dealership in (sydney, perth):  # both ran at 02:05 local time yesterday
        yesterday = dt.datetime(2026, 6, 1, 2, 5, tzinfo=dealership.zoneinfo)
        SyncLogFactory(dealership=dealership, trigger="schedule", started_at=yesterday)
    assert schedules.stock_dealerships(now=now) == [sydney]
    later = now + dt.timedelta(hours=2)  # 02:30 in Perth
    assert set(schedules.stock_dealerships(now=later)) == {sydney, perth}


def test_ensure_schedules_is_idempotent_and_leaves_other_schedules_alone():
    other = Schedule.objects.create(name="site:report", func="site.tasks.report", schedule_type=Schedule.DAILY)
    first = dict(jobs.ensure_schedules())
    again = dict(jobs.ensure_schedules())
    assert set(first.values()) == {"created"}
    assert set(again.values()) == {"unchanged"}
    assert Schedule.objects.filter(name__startswith="wagtail_easycars:").count() == 4
    funcs = set(Schedule.objects.filter(name__startswith="wagtail_easycars:").values_list("func", flat=True))
    assert funcs == {
        "wagtail_easycars.tasks.sync_all_stock",
        "wagtail_easycars.tasks.sync_all_leads",
        "wagtail_easycars.tasks.sweep_pending_leads",
        "wagtail_easycars.tasks.prune_history",
    }
    other.refresh_from_db()
    assert other.func == "site.tasks.report"


def test_changed_cron_and_missed_runs_get_a_fresh_next_run(settings):
    jobs.ensure_schedules()
    stock = Schedule.objects.get(name="wagtail_easycars:stock")
    Schedule.objects.filter(pk=stock.pk).update(next_run=timezone.now() - dt.timedelta(days=5))
    Schedule.objects.create(
        name="wagtail_easycars:stock", func="old.path", schedule_type=Schedule.CRON, cron="* * * * *"
    )
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "LEAD_SYNC_CRON": "30 * * * *"}
    report = dict(jobs.ensure_schedules())
    assert report["wagtail_easycars:stock"] == "updated"
    assert report["wagtail_easycars:leads"] == "updated"
    stock = Schedule.objects.get(name="wagtail_easycars:stock")
    assert stock.next_run > timezone.now()
    leads = Schedule.objects.get(name="wagtail_easycars:leads")
    assert leads.cron == "30 * * * *"
    assert leads.next_run.minute == 30


def test_invalid_cron_setting_is_a_clear_error(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "LEAD_SWEEP_CRON": "every now and then"}
    with pytest.raises(Exception, match="LEAD_SWEEP_CRON"):
        jobs.ensure_schedules()


def test_setup_schedules_command_warns_about_retry_shorter_than_timeout(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "retry": 900, "timeout": 900}
    out, err = StringIO(), StringIO()
    call_command("easycars_setup_schedules", stdout=out, stderr=err)
    assert "wagtail_easycars:stock: created" in out.getvalue()
    assert "retry" in err.getvalue()


def test_sync_command_now_prints_progress_and_summary(dealership):
    out = StringIO()
    call_command("easycars_sync_stock", "--dealership", dealership.slug, "--now", "--no-images", stdout=out)
    text = out.getvalue()
    assert "100%" in text
    assert "20 created" in text
    assert Vehicle.objects.count() == 20


def test_sync_command_without_now_queues(dealership, django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("easycars_sync_stock", "--all", stdout=out)
    assert "Queued stock sync" in out.getvalue()
    assert len(callbacks) == 1


def test_sync_command_rejects_unknown_dealership(sandbox_settings):
    with pytest.raises(CommandError, match="No dealership"):
        call_command("easycars_sync_stock", "--dealership", "nope", "--now")


def test_sync_command_fails_when_easycars_fails(dealership, sandbox):
    sandbox.control.add_fault("GetAdvertisementStocks", "code", code=9, message="System error")
    with pytest.raises(CommandError, match="failed"):
        call_command(
            "easycars_sync_stock", "--dealership", dealership.slug, "--now", stdout=StringIO(), stderr=StringIO()
        )


def test_paused_dealership_is_not_synced_by_the_command(dealership, sandbox):
    EasyCarsCredential.objects.update(is_active=False)
    err = StringIO()
    with pytest.raises(CommandError, match="failed"):
        call_command("easycars_sync_stock", "--dealership", dealership.slug, "--now", stdout=StringIO(), stderr=err)
    assert "turned off" in err.getvalue()
    assert not Vehicle.objects.exists()
    assert sandbox.control.count("GetAdvertisementStocks") == 0


def test_run_queued_before_the_dealership_was_paused_does_not_sync(dealership, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        log, _ = stock_runs.request_stock_sync(dealership)
    EasyCarsCredential.objects.update(is_active=False)  # paused while the task waited in the queue
    for callback in callbacks:
        callback()
    log.refresh_from_db()
    assert log.status == SyncLog.Status.FAILED
    assert log.error_message == "EasyCars syncing is turned off for this dealership."
    assert not Vehicle.objects.exists()
