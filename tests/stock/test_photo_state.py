"""Photos are a state of each vehicle, not a side effect of writing its row (issue 12).

Every run takes up the vehicles whose photos are not complete, whatever stopped the run before;
a photo that cannot be decoded or stored fails alone; a URL known to be broken waits out a
back-off, its retries write no vehicle row, and it no longer turns every run into a warning.
"""

import importlib
import time
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_easycars.models import BrokenPhotoURL, SyncLease, SyncLog, Vehicle, VehicleImage
from wagtail_easycars.models.vehicles import DataSource
from wagtail_easycars.sync.stock import mapping
from wagtail_easycars.sync.stock import sync as stock_sync
from wagtail_easycars.sync.stock.photos.gallery import sync_images
from wagtail_easycars.sync.stock.photos.stores import WagtailStore
from wagtail_easycars.sync.stock.sync import sync_stock

from ..factories import CredentialFactory, VehicleFactory

pytestmark = pytest.mark.django_db
photo_state_migration = importlib.import_module("wagtail_easycars.migrations.0008_vehicle_photo_state")

COMPLETE = Vehicle.PhotosState.COMPLETE
INCOMPLETE = Vehicle.PhotosState.INCOMPLETE
PENDING = Vehicle.PhotosState.PENDING
PHOTOS_PER_CAR = 3


@pytest.fixture
def dealership(sandbox_settings, sandbox):
    sandbox.control.reset(stock=4, seed=3, yards=1, accounts=1)
    for item in sandbox.control.stock():
        sandbox.control.set_images(item["StockNumber"], count=PHOTOS_PER_CAR, variant="p")
    return CredentialFactory().dealership


class WorkerKilled(BaseException):
    """Stands for ``kill -9``: no ``except Exception`` of the sync sees it, nothing is cleaned up."""


def the_worker_died():
    """What the next run finds after a killed worker: its lease lapsed, its run still in progress."""
    SyncLease.objects.update(lease_until=timezone.now() - timedelta(seconds=1))


def kill_after_stored_photos(monkeypatch, count):
    """Kill the worker as it is about to store its ``count + 1``-th photo."""
    real_save = WagtailStore.save
    stored = []

    def save(self, *args, **kwargs):
        if len(stored) >= count:
            raise WorkerKilled
        stored.append(args[2])
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(WagtailStore, "save", save)


def feed_urls(sandbox):
    """Stock number -> the image URLs EasyCars sends for it."""
    return {item["StockNumber"]: item["ImageURLs"].split(",") for item in sandbox.control.stock()}


def galleries(dealership):
    """Stock number -> the source URLs of its gallery, in order."""
    rows = VehicleImage.objects.filter(vehicle__dealership=dealership).order_by("vehicle_id", "sort_order")
    found = {}
    for number, url in rows.values_list("vehicle__easycars_stock_number", "source_url"):
        found.setdefault(number, []).append(url)
    return found


def photo_states(dealership):
    return dict(Vehicle.objects.filter(dealership=dealership).values_list("easycars_stock_number", "photos_state"))


def image_requests(sandbox):
    return [entry["path"] for entry in sandbox.control.requests("images")]


def path_of(url):
    return "/" + url.split("/", 3)[3].split("?")[0]


def vehicle_updates(queries):
    """The UPDATEs of the vehicle table among ``queries``."""
    update = f"UPDATE {connection.ops.quote_name(Vehicle._meta.db_table)} "
    return [q["sql"] for q in queries if q["sql"].lstrip().startswith(update)]


def expire_backoffs():
    BrokenPhotoURL.objects.update(retry_after=timezone.now() - timedelta(seconds=1))


# A run stopped before its photos were done ------------------------------------------------


def killed_while_storing_photos(dealership, sandbox, monkeypatch):
    kill_after_stored_photos(monkeypatch, 4)
    with pytest.raises(WorkerKilled):
        sync_stock(dealership)
    monkeypatch.undo()
    the_worker_died()


def killed_before_the_photo_phase(dealership, sandbox, monkeypatch):
    def never_started(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(stock_sync, "process_images", never_started)
    with pytest.raises(WorkerKilled):
        sync_stock(dealership)
    monkeypatch.undo()
    the_worker_died()


def killed_while_storing_a_changed_url_list(dealership, sandbox, monkeypatch):
    sync_stock(dealership)
    for number in feed_urls(sandbox):
        sandbox.control.set_images(number, count=PHOTOS_PER_CAR, variant="q")
    killed_while_storing_photos(dealership, sandbox, monkeypatch)


def run_without_photos(dealership, sandbox, monkeypatch):
    assert sync_stock(dealership, images=False).status == SyncLog.Status.SUCCESS


def run_out_of_time(dealership, sandbox, monkeypatch):
    log = sync_stock(dealership, deadline=time.monotonic() - 1)
    assert "time limit" in " ".join(log.warnings)


@pytest.mark.parametrize(
    "stop",
    [
        killed_while_storing_photos,
        killed_before_the_photo_phase,
        killed_while_storing_a_changed_url_list,
        run_without_photos,
        run_out_of_time,
    ],
)
def test_photos_left_by_a_killed_run_are_fetched_by_the_next_run(dealership, sandbox, monkeypatch, stop):
    stop(dealership, sandbox, monkeypatch)
    wanted = feed_urls(sandbox)
    assert galleries(dealership) != wanted, "the stopped run left photos to do"

    log = sync_stock(dealership)

    assert log.records_unchanged == len(wanted)  # the feed did not change: photos alone were left
    assert galleries(dealership) == wanted
    assert log.images_downloaded > 0
    assert log.status == SyncLog.Status.SUCCESS
    assert set(photo_states(dealership).values()) == {COMPLETE}


def test_unchanged_feed_shortcut_still_takes_up_pending_photos(dealership, sandbox, monkeypatch):
    first = sync_stock(dealership, images=False)
    hashed = []
    monkeypatch.setattr(mapping, "item_hash", lambda item: hashed.append(item) or "")
    log = sync_stock(dealership)
    assert hashed == []  # the feed was trusted, as the previous run stored it
    assert log.response_summary["feed_fingerprint"] == first.response_summary["feed_fingerprint"]
    assert galleries(dealership) == feed_urls(sandbox)


def test_photo_only_run_takes_up_every_vehicle_whose_photos_are_not_complete(dealership, sandbox):
    sync_stock(dealership, images=False)
    assert set(photo_states(dealership).values()) == {PENDING}
    log = sync_images(dealership)
    assert log.status == SyncLog.Status.SUCCESS
    assert galleries(dealership) == feed_urls(sandbox)
    assert set(photo_states(dealership).values()) == {COMPLETE}


def test_healthy_no_change_resync_does_no_photo_work(dealership, sandbox):
    sync_stock(dealership)
    sandbox.control.clear_requests()
    with CaptureQueriesContext(connection) as queries:
        log = sync_stock(dealership)
    assert log.status == SyncLog.Status.SUCCESS
    assert image_requests(sandbox) == []
    assert vehicle_updates(queries.captured_queries) == []
    gallery_table = connection.ops.quote_name(VehicleImage._meta.db_table)
    assert not any(gallery_table in q["sql"] for q in queries.captured_queries)


# A photo that cannot be decoded or stored fails alone ------------------------------------


def with_one_damaged_photo(sandbox, kind, **params):
    """Damage the second photo of the first car; return its stock number and URL."""
    number, urls = next(iter(feed_urls(sandbox).items()))
    sandbox.control.add_image_fault(urls[1], kind, **params)
    return number, urls[1]


def assert_failed_alone(dealership, sandbox, log, number, bad_url, reason):
    wanted = feed_urls(sandbox)
    assert log.status == SyncLog.Status.WARNING
    assert log.images_failed == 1
    [failure] = [f for f in log.item_failures if f["kind"] == "image"]
    assert number in failure["ref"]
    assert reason in failure["message"]
    have = galleries(dealership)
    assert have[number] == [url for url in wanted[number] if url != bad_url]
    assert {n: urls for n, urls in have.items() if n != number} == {n: u for n, u in wanted.items() if n != number}
    assert photo_states(dealership)[number] == INCOMPLETE
    assert BrokenPhotoURL.objects.get().reason == failure["message"]


def test_truncated_jpeg_fails_alone(dealership, sandbox):
    number, bad_url = with_one_damaged_photo(sandbox, "truncated", fraction=0.4)
    log = sync_stock(dealership)
    assert_failed_alone(dealership, sandbox, log, number, bad_url, "damaged")


def test_decompression_bomb_fails_alone(dealership, sandbox):
    number, bad_url = with_one_damaged_photo(sandbox, "bomb")
    log = sync_stock(dealership)
    assert_failed_alone(dealership, sandbox, log, number, bad_url, "too many pixels")


def test_a_photo_the_store_refuses_fails_alone(dealership, sandbox, monkeypatch):
    number, urls = next(iter(feed_urls(sandbox).items()))
    real_save = WagtailStore.save

    def save(self, data, extension, content_hash, title):
        if title.endswith(" photo 2") and not calls:
            calls.append(title)
            raise OSError("disk full at /srv/media/secret-path")
        return real_save(self, data, extension, content_hash, title)

    calls = []
    monkeypatch.setattr(WagtailStore, "save", save)
    log = sync_stock(dealership)
    assert log.status == SyncLog.Status.WARNING
    assert log.images_failed == 1
    [failure] = [f for f in log.item_failures if f["kind"] == "image"]
    assert "could not be stored (OSError)" in failure["message"]
    assert "secret-path" not in str(log.item_failures)
    assert sum(len(urls) for urls in galleries(dealership).values()) == 4 * PHOTOS_PER_CAR - 1
    assert list(photo_states(dealership).values()).count(INCOMPLETE) == 1
    assert not BrokenPhotoURL.objects.exists()  # the URL is fine: retried by the next run
    monkeypatch.undo()
    assert sync_stock(dealership).status == SyncLog.Status.SUCCESS
    assert galleries(dealership) == feed_urls(sandbox)


# Known-broken URLs: back-off, no writes, no fresh warning --------------------------------


def with_broken_photos(sandbox):
    """A 404 (whose URL carries a signature) and a non-image; returns their URLs."""
    cars = list(feed_urls(sandbox).items())
    number, urls = cars[0]
    signed = urls[0] + "?sig=s3cr3t-token"
    sandbox.control.set_images(number, urls=[signed, *urls[1:]])
    sandbox.control.add_image_fault(path_of(signed), "404")
    not_image = cars[1][1][2]
    sandbox.control.add_image_fault(not_image, "not_image")
    return signed, not_image


def test_known_broken_url_is_not_retried_before_its_backoff(dealership, sandbox, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "PHOTO_RETRY_INITIAL_DELAY": 3600}
    signed, not_image = with_broken_photos(sandbox)
    before = timezone.now()
    sync_stock(dealership)
    rows = {row.url: row for row in BrokenPhotoURL.objects.all()}
    assert set(rows) == {signed.split("?")[0], not_image}  # no query string kept
    first = rows[not_image]
    assert first.failures == 1
    assert timedelta(minutes=59) < first.retry_after - before < timedelta(minutes=61)
    assert "s3cr3t" not in str(list(BrokenPhotoURL.objects.values()))
    assert "s3cr3t" not in str(SyncLog.objects.values_list("item_failures", flat=True))

    sandbox.control.clear_requests()
    sync_stock(dealership)
    assert image_requests(sandbox) == []  # both wait out their back-off

    expire_backoffs()
    sandbox.control.clear_requests()
    again = timezone.now()
    sync_stock(dealership)
    assert sorted(image_requests(sandbox)) == sorted([path_of(signed), path_of(not_image)])
    second = BrokenPhotoURL.objects.get(url=not_image)
    assert second.failures == 2
    assert timedelta(minutes=119) < second.retry_after - again < timedelta(minutes=121)  # doubled


def test_backoff_stops_at_its_maximum(dealership, sandbox, settings):
    settings.WAGTAIL_EASYCARS = {
        **settings.WAGTAIL_EASYCARS, "PHOTO_RETRY_INITIAL_DELAY": 3600, "PHOTO_RETRY_MAX_DELAY": 3 * 3600,
    }  # fmt: skip
    _, not_image = with_broken_photos(sandbox)
    for _ in range(4):
        expire_backoffs()
        started = timezone.now()
        sync_stock(dealership)
    row = BrokenPhotoURL.objects.get(url=not_image)
    assert row.failures == 4
    assert timedelta(hours=2, minutes=59) < row.retry_after - started < timedelta(hours=3, minutes=1)


def test_no_change_resync_with_broken_photo_urls_writes_no_vehicle_row(dealership, sandbox):
    with_broken_photos(sandbox)
    sync_stock(dealership)
    for retried in (False, True):  # waiting out the back-off, then fetched again and failing
        if retried:
            expire_backoffs()
        with CaptureQueriesContext(connection) as queries:
            log = sync_stock(dealership)
        assert log.records_unchanged == 4
        assert vehicle_updates(queries.captured_queries) == [], f"retried={retried}"
    assert list(photo_states(dealership).values()).count(INCOMPLETE) == 2


def test_run_with_only_known_broken_photos_is_a_success(dealership, sandbox):
    with_broken_photos(sandbox)
    first = sync_stock(dealership)
    assert first.status == SyncLog.Status.WARNING  # new broken URLs are news the first time
    assert first.images_failed == 2

    waiting = sync_stock(dealership)
    assert waiting.status == SyncLog.Status.SUCCESS
    assert (waiting.images_failed, waiting.item_failures, waiting.warnings) == (0, [], [])
    assert waiting.response_summary["photos_unavailable"] == 2

    expire_backoffs()
    failing_again = sync_stock(dealership)
    assert failing_again.status == SyncLog.Status.SUCCESS
    assert failing_again.response_summary["photos_unavailable"] == 2

    # A new broken URL is still a warning the first time.
    number, urls = list(feed_urls(sandbox).items())[2]
    new_url = urls[0].replace(".jpg", "-new.jpg")
    sandbox.control.set_images(number, urls=[new_url, *urls[1:]])
    sandbox.control.add_image_fault(new_url, "404")
    news = sync_stock(dealership)
    assert news.status == SyncLog.Status.WARNING
    assert news.images_failed == 1
    assert news.response_summary["photos_unavailable"] == 2


def test_a_broken_url_that_works_again_is_forgotten(dealership, sandbox):
    signed, not_image = with_broken_photos(sandbox)
    sync_stock(dealership)
    sandbox.control.clear_image_faults()
    expire_backoffs()
    log = sync_stock(dealership)
    assert log.status == SyncLog.Status.SUCCESS
    assert "photos_unavailable" not in log.response_summary
    assert not BrokenPhotoURL.objects.exists()
    assert galleries(dealership) == feed_urls(sandbox)
    assert set(photo_states(dealership).values()) == {COMPLETE}


# Migration 0008 -------------------------------------------------------------------------


def test_migration_sets_the_initial_photo_state_of_existing_vehicles():
    urls = ["https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"]
    done = mapping.images_hash(urls)

    def easycars(images_hash, image_urls):
        return VehicleFactory(
            data_source=DataSource.EASYCARS, easycars_images_hash=images_hash,
            easycars_raw_data={"ImageURLs": image_urls},
        )  # fmt: skip

    failed = easycars("pending", urls)
    left_by_a_killed_run = easycars("", urls)
    changed_then_killed = easycars(mapping.images_hash(urls[:1]), urls)
    complete = easycars(done, urls)
    without_photos = easycars("", [])
    manual = VehicleFactory()
    Vehicle.objects.update(photos_state=COMPLETE)  # as the AddField default leaves them

    photo_state_migration.set_initial_photo_states(django_apps, None)

    states = dict(Vehicle.objects.values_list("pk", "photos_state"))
    assert states == {
        failed.pk: INCOMPLETE,
        left_by_a_killed_run.pk: PENDING,
        changed_then_killed.pk: PENDING,
        complete.pk: COMPLETE,
        without_photos.pk: COMPLETE,
        manual.pk: COMPLETE,
    }
