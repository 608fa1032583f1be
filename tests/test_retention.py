"""Retention: old sync logs, field history and the package's task results are pruned in batches."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import Schedule, Task

from wagtail_easycars import jobs, tasks
from wagtail_easycars.models import FieldChange, SyncLog
from wagtail_easycars.sync import retention

from .factories import DealershipFactory, FieldChangeFactory, LeadFactory, SyncLogFactory

pytestmark = pytest.mark.django_db

STOCK, LEAD = SyncLog.SyncType.STOCK, SyncLog.SyncType.LEAD


def days_ago(days):
    return timezone.now() - dt.timedelta(days=days)


def log(dealership, days, sync_type=STOCK):
    return SyncLogFactory(
        dealership=dealership,
        sync_type=sync_type,
        direction=SyncLog.Direction.INBOUND if sync_type == STOCK else SyncLog.Direction.OUTBOUND,
        started_at=days_ago(days),
        completed_at=None,
    )


def change(days, **kwargs):
    row = FieldChangeFactory(**kwargs)
    FieldChange.objects.filter(pk=row.pk).update(changed_at=days_ago(days))
    return row.pk


def task_result(name, days, group=None):
    stopped = days_ago(days)
    return Task.objects.create(
        id=f"{name}-{days}-{group}"[:32],
        name=name,
        func="some.func",
        group=group,
        started=stopped,
        stopped=stopped,
        success=True,
    ).pk


def remaining(model):
    return set(model.objects.values_list("pk", flat=True))


def test_old_logs_go_but_the_latest_of_each_kind_per_dealership_stays():
    north, south = DealershipFactory(), DealershipFactory()
    old_stock = [log(north, 200).pk, log(north, 150).pk]
    latest_stock = log(north, 120).pk  # old, but north's latest stock run
    latest_lead = log(north, 100, LEAD).pk  # old, north's only lead run
    old_lead = log(north, 300, LEAD).pk
    young = log(north, 10, LEAD).pk
    south_old, south_latest = log(south, 400).pk, log(south, 95).pk

    result = retention.prune()

    assert remaining(SyncLog) == {latest_stock, young, south_latest}
    assert not remaining(SyncLog) & {*old_stock, old_lead, latest_lead, south_old}
    assert result["sync logs"] == 5


def test_a_latest_run_that_is_old_is_kept_even_when_it_is_the_only_one():
    dealership = DealershipFactory()
    only_stock, only_lead = log(dealership, 500).pk, log(dealership, 500, LEAD).pk
    assert retention.prune()["sync logs"] == 0
    assert remaining(SyncLog) == {only_stock, only_lead}


def test_young_logs_are_kept_and_the_retention_is_a_setting(settings):
    dealership = DealershipFactory()
    ids = {log(dealership, days).pk for days in (1, 30, 89)}
    assert retention.prune()["sync logs"] == 0
    assert remaining(SyncLog) == ids
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "SYNC_LOG_RETENTION_DAYS": 20}
    assert retention.prune()["sync logs"] == 2
    assert len(remaining(SyncLog)) == 1


def test_dry_run_counts_and_deletes_nothing():
    dealership = DealershipFactory()
    for days in (100, 200, 300):
        log(dealership, days)
    change(400)
    task_result("wagtail_easycars:stock-sync:1", 100)
    before = (SyncLog.objects.count(), FieldChange.objects.count(), Task.objects.count())

    out = StringIO()
    call_command("easycars_prune", "--dry-run", stdout=out)

    assert out.getvalue().splitlines() == [
        "sync logs: 2 would be deleted",
        "field history: 1 would be deleted",
        "task results: 1 would be deleted",
    ]
    assert (SyncLog.objects.count(), FieldChange.objects.count(), Task.objects.count()) == before


def test_command_deletes_and_prints_one_line_per_table():
    dealership = DealershipFactory()
    log(dealership, 100), log(dealership, 200)
    out = StringIO()
    call_command("easycars_prune", stdout=out)
    assert out.getvalue().splitlines() == [
        "sync logs: 1 deleted",
        "field history: 0 deleted",
        "task results: 0 deleted",
    ]
    assert SyncLog.objects.count() == 1


def test_field_history_keeps_price_changes_twice_as_long():
    young = change(100)
    old = change(400)
    old_lead = change(400, vehicle=None, lead=LeadFactory(), field="status")
    price_kept = change(400, field="price", old_value="20000.00", new_value="19000.00")
    special_kept = change(700, field="special_price")
    price_gone = change(800, field="price")

    assert retention.prune()["field history"] == 3

    assert remaining(FieldChange) == {young, price_kept, special_kept}
    assert not remaining(FieldChange) & {old, old_lead, price_gone}


def test_price_history_is_never_kept_shorter_than_the_rest(settings):
    settings.WAGTAIL_EASYCARS = {
        **settings.WAGTAIL_EASYCARS,
        "FIELD_HISTORY_RETENTION_DAYS": 1000,
        "PRICE_HISTORY_RETENTION_DAYS": 30,
    }
    price = change(800, field="price")
    assert retention.prune()["field history"] == 0
    assert remaining(FieldChange) == {price}


def test_none_keeps_history_for_ever(settings):
    settings.WAGTAIL_EASYCARS = {
        **settings.WAGTAIL_EASYCARS,
        "SYNC_LOG_RETENTION_DAYS": None,
        "FIELD_HISTORY_RETENTION_DAYS": None,
    }
    dealership = DealershipFactory()
    log(dealership, 900), log(dealership, 800)
    change(5000)
    task_result("wagtail_easycars:x", 900)
    assert retention.prune() == {"sync logs": 0, "field history": 0, "task results": 0}


def test_a_bad_retention_setting_is_a_clear_error(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "SYNC_LOG_RETENTION_DAYS": "ninety"}
    with pytest.raises(Exception, match="SYNC_LOG_RETENTION_DAYS"):
        retention.prune()


def test_only_the_packages_own_task_results_are_pruned():
    named = task_result("wagtail_easycars:stock-sync:7", 100)
    scheduled = task_result("sixteen-eggs-kilo", 100, group="wagtail_easycars:leads")
    failed = task_result("wagtail_easycars:push-lead:3", 100)
    Task.objects.filter(pk=failed).update(success=False)  # a Failure: the same table
    young = task_result("wagtail_easycars:stock-sync:8", 10)
    other_app = task_result("site:report", 100)
    other_group = task_result("alpha-bravo", 100, group="site:nightly")

    assert retention.prune()["task results"] == 3

    assert remaining(Task) == {young, other_app, other_group}
    assert not remaining(Task) & {named, scheduled, failed}


def test_deletes_run_in_batches_each_its_own_delete():
    dealership = DealershipFactory()
    for days in range(100, 111):
        log(dealership, days)  # 11 old logs
    log(dealership, 1)  # the latest: kept

    with CaptureQueriesContext(connection) as queries:
        deleted = retention.prune_sync_logs(days_ago(90), batch_size=4)

    assert deleted == 11
    deletes = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith('DELETE FROM "wagtail_easycars_synclog"')
    ]
    assert len(deletes) == 3  # 4 + 4 + 3
    assert SyncLog.objects.count() == 1


def test_pruning_a_log_keeps_the_history_that_points_at_it():
    dealership = DealershipFactory()
    old = log(dealership, 100)
    log(dealership, 1)
    kept = change(10, sync_log=old)
    retention.prune()
    assert FieldChange.objects.get(pk=kept).sync_log_id is None


def test_the_daily_schedule_exists_after_ensure_schedules():
    jobs.ensure_schedules()
    row = Schedule.objects.get(name="wagtail_easycars:prune")
    assert row.func == "wagtail_easycars.tasks.prune_history"
    assert row.cron == "30 3 * * *"
    assert "900" in row.kwargs  # TASK_TIMEOUT, not the fan-outs' 120 s


def test_the_task_prunes_with_the_settings():
    dealership = DealershipFactory()
    log(dealership, 100), log(dealership, 1)
    assert tasks.prune_history() == {"sync logs": 1, "field history": 0, "task results": 0}
