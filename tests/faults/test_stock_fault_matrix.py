"""Every sandbox fault kind on every endpoint a stock sync calls: the showroom never empties.

A persistent fault makes the run fail with a message and leaves every vehicle as it was; a fault
that clears after one call is retried or reported, and never duplicates a vehicle.
"""

import pytest
from django.core.cache import caches

from wagtail_easycars.models import SyncLog, Vehicle
from wagtail_easycars.sync.stock.sync import sync_stock

from ..factories import CredentialFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = ["StockService/RequestToken", "StockService/GetAdvertisementStocks"]
#: (kind, params): every way the sandbox can misbehave, EasyCars' own codes included.
FAULTS = [
    ("latency", {"ms": 1500}),  # beyond the read timeout below
    ("http_error", {"status": 500}),
    ("http_error", {"status": 502}),
    ("http_error", {"status": 503}),
    ("rate_limit", {"retry_after": 0}),
    ("code", {"code": 9, "message": "System error."}),
    ("code", {"code": 1, "message": "Authentication fail."}),
    ("code", {"code": 5, "message": "Failed."}),
    ("malformed", {}),
    ("truncated", {}),
    ("drop", {}),
]
IDS = [f"{kind}-{params.get('status') or params.get('code') or ''}".rstrip("-") for kind, params in FAULTS]


@pytest.fixture
def dealership(settings, easycars):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "READ_TIMEOUT": 0.5, "MAX_RETRIES": 1}
    easycars.control.reset(stock=12, seed=11, yards=1, accounts=1)
    for item in easycars.control.stock():  # photos are not what this suite is about
        easycars.control.set_images(item["StockNumber"], count=0)
    dealership = CredentialFactory().dealership
    assert sync_stock(dealership).status == SyncLog.Status.SUCCESS
    for cache in caches.all():  # forget the token, so the next run asks for one (and meets the fault)
        cache.clear()
    return dealership


def showroom(dealership):
    return sorted(Vehicle.objects.filter(dealership=dealership).values_list("easycars_stock_number", "status", "price"))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("kind", "params"), FAULTS, ids=IDS)
def test_a_failing_pull_leaves_the_showroom_as_it_was(dealership, easycars, endpoint, kind, params):
    before = showroom(dealership)
    easycars.control.remove_stock(easycars.control.stock()[0]["StockNumber"])  # would be delisted by a good pull
    easycars.control.add_fault(endpoint, kind, **params)
    log = sync_stock(dealership)
    assert log.status == SyncLog.Status.FAILED
    assert log.error_message
    assert showroom(dealership) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("kind", "params"), FAULTS, ids=IDS)
def test_a_fault_that_passes_duplicates_nothing(dealership, easycars, endpoint, kind, params):
    numbers = [item["StockNumber"] for item in easycars.control.stock()]
    easycars.control.add_fault(endpoint, kind, count=1, **params)
    first = sync_stock(dealership)
    easycars.control.clear_faults()
    second = sync_stock(dealership)
    assert second.status == SyncLog.Status.SUCCESS, second.error_message
    assert first.status in (SyncLog.Status.SUCCESS, SyncLog.Status.FAILED)
    stored = list(Vehicle.objects.filter(dealership=dealership).values_list("easycars_stock_number", flat=True))
    assert sorted(stored) == sorted(numbers)
    assert Vehicle.objects.filter(dealership=dealership, status=Vehicle.Status.AVAILABLE).count() == len(numbers)
