"""A feed byte for byte the one the previous run stored is not hashed item by item.

The shortcut must never hide a change: these tests are the cases where a stored content hash
no longer matches the item although the feed did not change.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from wagtail_easycars.models import SyncLog, Vehicle
from wagtail_easycars.sync.stock import conflicts, mapping
from wagtail_easycars.sync.stock.photos.gallery import sync_images
from wagtail_easycars.sync.stock.sync import sync_stock

from ..factories import CredentialFactory, SyncLogFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dealership(sandbox_settings):
    return CredentialFactory().dealership


@pytest.fixture
def hashed(monkeypatch):
    """How many items the sync hashed one by one."""
    calls = []
    original = mapping.item_hash

    def counting(item):
        calls.append(item.get("StockNumber"))
        return original(item)

    monkeypatch.setattr(mapping, "item_hash", counting)
    return calls


def sync(dealership):
    return sync_stock(dealership, images=False)


def test_identical_feed_is_not_hashed_item_by_item(dealership, sandbox, hashed):
    first = sync(dealership)
    assert len(hashed) == first.records_created == 20
    assert first.response_summary["feed_fingerprint"]
    hashed.clear()
    again = sync(dealership)
    assert hashed == []
    assert again.records_unchanged == 20
    assert again.response_summary["feed_fingerprint"] == first.response_summary["feed_fingerprint"]


def test_a_changed_feed_is_hashed_and_the_change_applied(dealership, sandbox, hashed):
    sync(dealership)
    number = sandbox.control.stock()[0]["StockNumber"]
    sandbox.control.edit_stock(number, {"Price": 12345})
    hashed.clear()
    log = sync(dealership)
    assert len(hashed) == 20
    assert log.records_updated == 1
    assert Vehicle.objects.get(easycars_stock_number=number).price == Decimal("12345.00")


def test_unlocked_field_takes_the_easycars_value_from_an_identical_feed(dealership, sandbox):
    sync(dealership)
    car = Vehicle.objects.order_by("pk").first()
    easycars_price = car.price
    car.price = Decimal("999")
    car.save()  # an editor's change locks the field
    car.refresh_from_db()
    assert "price" in car.locked_fields
    sync(dealership)
    assert Vehicle.objects.get(pk=car.pk).price == Decimal("999")
    conflicts.unlock_fields(car, ["price"])
    sync(dealership)
    assert Vehicle.objects.get(pk=car.pk).price == easycars_price


def test_a_vehicle_deleted_by_an_editor_comes_back_from_an_identical_feed(dealership, sandbox):
    sync(dealership)
    number = Vehicle.objects.order_by("pk").first().easycars_stock_number
    Vehicle.objects.filter(easycars_stock_number=number).delete()
    log = sync(dealership)
    assert log.records_created == 1
    assert Vehicle.objects.filter(easycars_stock_number=number).exists()


def test_a_vehicle_unlisted_by_an_editor_is_relisted_from_an_identical_feed(dealership, sandbox):
    sync(dealership)
    car = Vehicle.objects.order_by("pk").first()
    Vehicle.objects.filter(pk=car.pk).update(status=Vehicle.Status.UNLISTED)
    log = sync(dealership)
    assert log.records_relisted == 1
    assert Vehicle.objects.get(pk=car.pk).status != Vehicle.Status.UNLISTED


def _stale(car):
    """What a run that died half way leaves: a row written from another version of its item."""
    Vehicle.objects.filter(pk=car.pk).update(easycars_content_hash="0" * 64, price=Decimal("1"))


@pytest.mark.parametrize("status", [SyncLog.Status.FAILED, SyncLog.Status.IN_PROGRESS])
def test_after_a_run_that_did_not_finish_every_item_is_hashed_again(dealership, sandbox, hashed, status):
    first = sync(dealership)
    car = Vehicle.objects.order_by("pk").first()
    price = car.price
    _stale(car)
    # Even one that recorded the same feed's fingerprint before it stopped.
    SyncLogFactory(
        dealership=dealership, status=status, started_at=timezone.now(), response_summary=first.response_summary
    )
    hashed.clear()
    sync(dealership)
    assert len(hashed) == 20
    assert Vehicle.objects.get(pk=car.pk).price == price


def test_a_run_that_left_an_item_unstored_leaves_no_fingerprint(dealership, sandbox, hashed):
    sandbox.control.add_stock({"StockNumber": "   "})  # cannot be stored: it fails alone
    log = sync(dealership)
    assert log.records_failed == 1
    assert log.response_summary["feed_fingerprint"] == ""
    hashed.clear()
    sync(dealership)
    assert len(hashed) == 20


def test_photo_only_runs_do_not_count_as_the_previous_run(dealership, sandbox, hashed):
    sync(dealership)
    sync_images(dealership)
    hashed.clear()
    sync(dealership)
    assert hashed == []


def test_a_new_mapping_version_hashes_every_item_again(dealership, sandbox, hashed, monkeypatch):
    sync(dealership)
    monkeypatch.setattr(mapping, "MAPPING_VERSION", mapping.MAPPING_VERSION + "-next")
    hashed.clear()
    sync(dealership)
    assert len(hashed) == 20
