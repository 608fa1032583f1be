"""The listing and a vehicle's page cost the same number of queries however many vehicles and photos there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import VehicleFactory
from tests.showroom_fixtures import add_photos
from wagtail_easycars.models import Vehicle

pytestmark = pytest.mark.django_db


def add_vehicles(dealership, count, photos=1):
    for _ in range(count):
        add_photos(VehicleFactory(dealership=dealership), count=photos)


def queries_for(client, url):
    client.get(url)  # the first view creates the renditions; that is a one-off cost per photo
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


URLS = ["/vehicles/", "/vehicles/?make=Mazda&price_max=90000&sort=price_asc&q=GX&page=1"]


def test_listing_query_count_does_not_grow_with_vehicles_or_photos(client, listing_page, showroom_dealership, settings):
    # Every vehicle on one page, so an N+1 anywhere would show.
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "SHOWROOM_PAGE_SIZE": 500}
    add_vehicles(showroom_dealership, 10, photos=2)
    with_10 = [queries_for(client, url) for url in URLS]

    add_vehicles(showroom_dealership, 190, photos=2)
    with_200 = [queries_for(client, url) for url in URLS]

    assert Vehicle.objects.count() == 200
    assert with_200 == with_10
    # page routing (6), dealership, facets, page ids + count, vehicles, photos, images, renditions
    assert max(with_10) <= 14


def test_vehicle_page_query_count_does_not_grow_with_photos(client, listing_page, showroom_dealership):
    few = VehicleFactory(dealership=showroom_dealership, make="Mazda")
    add_photos(few, count=1)
    many = VehicleFactory(dealership=showroom_dealership, make="Mazda")
    add_photos(many, count=20)

    assert queries_for(client, f"/vehicles/{many.slug}/") == queries_for(client, f"/vehicles/{few.slug}/")
    assert queries_for(client, f"/vehicles/{few.slug}/") <= 11


def test_sold_page_query_count_does_not_grow_with_similar_vehicles(client, listing_page, showroom_dealership):
    sold = VehicleFactory(
        dealership=showroom_dealership, make="Mazda", status=Vehicle.Status.SOLD, status_changed_at=timezone.now()
    )
    add_photos(sold, count=2)
    add_vehicles(showroom_dealership, 1)
    with_one_similar = queries_for(client, f"/vehicles/{sold.slug}/")

    add_vehicles(showroom_dealership, 10, photos=2)

    assert queries_for(client, f"/vehicles/{sold.slug}/") == with_one_similar
