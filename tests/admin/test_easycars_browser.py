"""A new dealership admin connects EasyCars, runs a stock sync and reads the result, in a real Chromium.

Everything is real except the clock of the work: the admin talks to a live server, the live
server to the sandbox over loopback HTTP, and "Sync stock now" goes through django-q2's ORM
broker to django-q2's own pusher, worker and monitor loops (run here as threads, because a
qcluster process cannot see the test database). The sandbox answers in milliseconds, so each
stock item's mapping is slowed down a little to leave the dashboard a run to watch.

Saves docs/screenshots/admin-settings.png, admin-dashboard-running.png, admin-dashboard-done.png
and admin-sync-detail.png.
"""

import datetime as dt
import multiprocessing
import queue
import re
import threading
import time

import pytest
from django.db import connections
from django.utils import timezone

from tests.browser import browser_marks, chromium_page, expect
from wagtail_easycars.models import EasyCarsCredential, SyncLog
from wagtail_easycars.sync.stock import mapping

from ..admin_support import EDITOR_PERMISSIONS
from ..easycars_admin_support import SYNC_PERMISSIONS, make_sync_admin
from ..factories import DealershipFactory, SyncLogFactory

pytestmark = browser_marks

STOCK = 24


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are
    # ordinary blocking calls, which Django would otherwise refuse next to a running loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium_page(1400, 900, device_scale_factor=1) as page:
        yield page


def _in_thread(target, *args):
    def run():
        try:
            target(*args)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True, name=f"django-q {target.__name__}")
    thread.start()
    return thread


@pytest.fixture
def task_queue_worker(monkeypatch):
    """django-q2's pusher, worker and monitor loops on the real ORM broker, as threads of this process."""
    from django_q import monitor, pusher, worker
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)  # tests/settings.py runs tasks inline; here they are queued
    tasks, results = queue.Queue(), queue.Queue()
    stop = threading.Event()
    threads = [
        _in_thread(pusher.pusher, tasks, stop, get_broker()),
        _in_thread(worker.worker, tasks, results, multiprocessing.Value("f", -1)),
        _in_thread(monitor.monitor, results, get_broker()),
    ]
    yield
    stop.set()
    tasks.put("STOP")
    results.put("STOP")
    for thread in threads:
        thread.join(timeout=30)


@pytest.fixture
def slow_mapping(monkeypatch):
    original = mapping.map_stock_item

    def map_stock_item(*args, **kwargs):
        time.sleep(0.25)
        return original(*args, **kwargs)

    monkeypatch.setattr(mapping, "map_stock_item", map_stock_item)


def seed_history(dealership):
    """Three weeks of earlier runs (nightly stock, hourly leads), so the table and charts have a past."""
    now = timezone.now()
    for day in range(21, 0, -1):
        started = now - dt.timedelta(days=day, hours=-2)
        failed = day == 6
        SyncLogFactory(
            dealership=dealership,
            sync_type=SyncLog.SyncType.STOCK,
            status=SyncLog.Status.FAILED if failed else SyncLog.Status.SUCCESS,
            trigger=SyncLog.Trigger.SCHEDULE,
            started_at=started,
            completed_at=started + dt.timedelta(seconds=40 + day * 3),
            duration_ms=(40 + day * 3) * 1000,
            records_total=0 if failed else 30 + day % 4,
            records_processed=0 if failed else 30 + day % 4,
            records_created=0 if failed else day % 3,
            records_updated=0 if failed else 4 + day % 5,
            records_unchanged=0 if failed else 24,
            error_message="Could not reach EasyCars: the connection timed out." if failed else "",
        )
    for hour in range(30, 0, -1):
        started = now - dt.timedelta(hours=hour, minutes=-40)
        records = (hour * 7) % 5
        SyncLogFactory(
            dealership=dealership,
            sync_type=SyncLog.SyncType.LEAD,
            direction=SyncLog.Direction.INBOUND,
            status=SyncLog.Status.SUCCESS,
            started_at=started,
            completed_at=started + dt.timedelta(seconds=3),
            duration_ms=2500 + records * 400,
            records_total=records,
            records_processed=records,
            records_created=records // 3,
            records_updated=records - records // 3,
        )


def capture(page, path):
    """A screenshot of the whole admin page (Wagtail scrolls its content area, not the window)."""
    height = page.evaluate(
        "Math.max(document.documentElement.scrollHeight, document.querySelector('main').scrollHeight + 80)"
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 3000)})
    page.evaluate("document.querySelectorAll('main, .content-wrapper').forEach(el => el.scrollTo(0, 0))")
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(900)  # let the progress bar's width transition finish
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(size)


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", user.get_username())
    page.fill("input[name=password]", "password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def fill_credentials(page, account, *, account_secret=None):
    page.select_option("#id_environment", "test")
    page.fill("#id_client_id", account.client_id)
    page.fill("#id_client_secret", account.client_secret)
    page.fill("#id_account_number", account.account_number)
    page.fill("#id_account_secret", account_secret or account.account_secret)


def test_admin_connects_syncs_and_reads_the_result(
    transactional_db,
    live_server,
    browser_page,
    screenshot_dir,
    sandbox_settings,
    task_queue_worker,
    slow_mapping,
    settings,
):
    # transactional_db comes first so a file-backed SQLite test database is set up before the
    # live server starts; with an in-memory one the server thread shares this thread's
    # connection, so the ORM is used below only while no page is polling.
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "SYNC_BATCH_SIZE": 3, "IMAGE_CONCURRENCY": 2}
    sandbox_settings.control.reset(stock=STOCK, seed=7, yards=1)
    dealership = DealershipFactory(name="Harbour City Motors", slug="harbour-city", timezone="Australia/Sydney")
    seed_history(dealership)
    admin = make_sync_admin(dealership, permissions=(*SYNC_PERMISSIONS, *EDITOR_PERMISSIONS))
    admin.first_name, admin.last_name = "Sam", "Nguyen"
    admin.save()
    account = sandbox_settings.account
    page = browser_page
    log_in(page, live_server, admin)

    # Settings: a wrong Account Secret is named, nothing is saved, Save stays disabled.
    page.goto(f"{live_server.url}/admin/easycars/settings/")
    fill_credentials(page, account, account_secret="6c1f0a52-0000-4000-8000-000000000000")
    page.click("[data-easycars-test]")
    result = page.locator("[data-easycars-test-result]")
    expect(result).to_contain_text("rejected the Account Number or the Account Secret")
    expect(page.locator("[data-easycars-save]")).to_be_disabled()

    # The right secret passes, which enables Save.
    page.fill("#id_account_secret", account.account_secret)
    page.click("[data-easycars-test]")
    expect(result).to_contain_text("both credential pairs were accepted")
    expect(page.locator("[data-easycars-save]")).to_be_enabled()
    assert not EasyCarsCredential.objects.filter(dealership=dealership).exists()
    capture(page, screenshot_dir / "admin-settings.png")

    page.click("[data-easycars-save]")
    expect(page.locator("[data-easycars-masked]")).to_have_text("…" + account.account_number[-4:])
    assert account.account_secret not in page.content()
    credential = EasyCarsCredential.objects.get(dealership=dealership)
    assert (credential.account_secret, credential.updated_by_id) == (account.account_secret, admin.pk)

    # Dashboard: start a stock sync and watch its progress bar without reloading the page.
    page.goto(f"{live_server.url}/admin/easycars/sync/")
    page.evaluate("window.__easycarsPageId = 'same page'")
    page.click("form[data-easycars-trigger='stock'] button")
    bar = page.locator("[data-easycars-progress='stock']")
    expect(bar).to_have_attribute("data-state", "in_progress")
    page.wait_for_function(
        """() => {
            const bar = document.querySelector("[data-easycars-progress='stock']");
            const value = bar && Number(bar.getAttribute('aria-valuenow'));
            return bar && bar.dataset.state === 'in_progress' && value > 0 && value < 100;
        }""",
        timeout=30_000,
    )
    capture(page, screenshot_dir / "admin-dashboard-running.png")

    page.wait_for_function(
        """() => {
            const bar = document.querySelector("[data-easycars-progress='stock']");
            return bar && ['success', 'warning'].includes(bar.dataset.state);
        }""",
        timeout=90_000,
    )
    assert page.evaluate("window.__easycarsPageId") == "same page"  # followed by polling, not a reload
    expect(page.locator("[data-easycars-progress-text='stock']")).to_contain_text(f"{STOCK} of {STOCK} processed")
    expect(page.locator("[data-easycars-card='stock'] [data-easycars-health]")).to_have_attribute(
        "data-easycars-health", "on_time"
    )
    capture(page, screenshot_dir / "admin-dashboard-done.png")

    # The run's detail (a page that does not poll).
    page.click("[data-easycars-card='stock'] dd a[href*='/history/']")
    expect(page.locator("[data-easycars-run]")).to_be_visible()
    run = SyncLog.objects.filter(dealership=dealership, trigger=SyncLog.Trigger.MANUAL).get()
    assert (run.records_created, run.triggered_by_id) == (STOCK, admin.pk)
    assert page.url.endswith(f"/admin/easycars/history/{run.pk}/")
    expect(page.locator("[data-easycars-run]")).to_have_attribute("data-status", run.status)
    expect(page.locator(".easycars-counts")).to_contain_text(str(STOCK))
    expect(page.locator("[data-easycars-touched] a")).to_have_count(STOCK)
    capture(page, screenshot_dir / "admin-sync-detail.png")

    # The history, filtered to manual stock runs.
    page.goto(f"{live_server.url}/admin/easycars/history/?sync_type=stock&trigger=manual")
    rows = page.locator("#listing-results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"#{run.pk} Stock")
    # ... and with the listing's own filter panel: status "Failed" leaves the one failed night.
    page.goto(f"{live_server.url}/admin/easycars/history/")
    expect(rows).to_have_count(25)
    page.click("button[aria-label='Show filters']")
    page.click("button[aria-controls='drilldown-id_status']")
    panel = page.locator("#drilldown-id_status")
    if panel.locator("select").count():
        panel.locator("select").select_option("failed")
    else:
        panel.get_by_label("Failed", exact=True).check()
    expect(rows).to_have_count(1)
    assert re.search(r"failed", rows.first.inner_text(), re.IGNORECASE)
    expect(page).to_have_url(re.compile(r"status=failed"))
