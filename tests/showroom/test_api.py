"""The vehicles endpoint of Wagtail's API v2: public vehicles of one dealership, filtered like the listing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import DealershipFactory, VehicleFactory
from tests.showroom_fixtures import add_photos
from wagtail_easycars.models import Vehicle

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.showroom_api_urls")]


def titles(response):
    assert response.status_code == 200, response.content
    return sorted(item["title"] for item in response.json()["items"])


def test_lists_the_sites_dealerships_available_vehicles_with_photos_and_page_urls(
    client, listing_page, showroom_dealership
):
    vehicle = VehicleFactory(dealership=showroom_dealership, title="Volvo", price=None)
    add_photos(vehicle, count=2)
    VehicleFactory(dealership=showroom_dealership, title="Sold", status=Vehicle.Status.SOLD)
    VehicleFactory(title="Another dealership's")

    response = client.get("/api/v2/vehicles/")

    assert titles(response) == ["Volvo"]
    (item,) = response.json()["items"]
    assert item["meta"]["html_url"] == f"http://localhost/vehicles/{vehicle.slug}/"
    assert item["meta"]["detail_url"] == f"http://localhost/api/v2/vehicles/{vehicle.pk}/"
    assert item["price"] is None
    assert item["price_on_application"] is True
    assert len(item["photos"]) == 2
    assert item["photos"][0]["url"].startswith("http://testserver/")
    assert item["photos"][0]["alt"] == "Volvo"
    assert {"width", "height"} <= set(item["photos"][0])


def test_dealership_parameter_chooses_another_dealership(client, showroom_dealership):
    other = DealershipFactory(slug="other-motors")
    VehicleFactory(dealership=other, title="Theirs")
    VehicleFactory(dealership=showroom_dealership, title="Ours")

    assert titles(client.get("/api/v2/vehicles/?dealership=other-motors")) == ["Theirs"]
    assert titles(client.get("/api/v2/vehicles/")) == ["Ours"]


def test_unknown_dealership_or_a_site_without_one_is_a_clear_400(client, showroom_site):
    unknown = client.get("/api/v2/vehicles/?dealership=nope")
    no_dealer = client.get("/api/v2/vehicles/")

    assert unknown.status_code == 400
    assert unknown.json() == {"message": "unknown dealership: nope"}
    assert no_dealer.status_code == 400
    assert "pass ?dealership=<slug>" in no_dealer.json()["message"]


def test_filters_search_and_sort_match_the_listing(client, showroom_dealership):
    d = showroom_dealership
    VehicleFactory(dealership=d, title="Cheap Mazda", make="Mazda", price=Decimal("20000"), condition="used")
    VehicleFactory(dealership=d, title="Dear Mazda", make="Mazda", price=Decimal("50000"), condition="demo")
    VehicleFactory(dealership=d, title="Ford", make="Ford", price=Decimal("30000"), description="sunroof")

    assert titles(client.get("/api/v2/vehicles/?make=mazda")) == ["Cheap Mazda", "Dear Mazda"]
    assert titles(client.get("/api/v2/vehicles/?price_max=30000")) == ["Cheap Mazda", "Ford"]
    assert titles(client.get("/api/v2/vehicles/?condition=demo")) == ["Dear Mazda"]
    assert titles(client.get("/api/v2/vehicles/?q=sunroof")) == ["Ford"]
    ordered = client.get("/api/v2/vehicles/?sort=price_desc").json()["items"]
    assert [item["title"] for item in ordered] == ["Dear Mazda", "Ford", "Cheap Mazda"]


def test_invalid_filter_or_unknown_parameter_is_a_400(client, showroom_dealership):
    assert client.get("/api/v2/vehicles/?price_min=abc").status_code == 400
    assert client.get("/api/v2/vehicles/?sort=nonsense").status_code == 400
    response = client.get("/api/v2/vehicles/?easycars_raw_data=1")
    assert response.status_code == 400


def test_detail_shows_all_public_fields_and_never_sync_internals(client, showroom_dealership):
    vehicle = VehicleFactory(
        dealership=showroom_dealership, features=["Sunroof"], easycars_raw_data={"secret": "internal"}
    )

    data = client.get(f"/api/v2/vehicles/{vehicle.pk}/").json()

    assert data["features"] == ["Sunroof"]
    assert data["seller"] == {"name": "Harbour City Motors", "slug": showroom_dealership.slug}
    assert "easycars_raw_data" not in data
    assert "locked_fields" not in data
    assert "internal" not in str(data)


def test_detail_of_a_recently_sold_vehicle_is_readable_then_gone(client, showroom_dealership):
    recent = VehicleFactory(
        dealership=showroom_dealership, status=Vehicle.Status.SOLD, status_changed_at=timezone.now()
    )
    old = VehicleFactory(
        dealership=showroom_dealership,
        status=Vehicle.Status.SOLD,
        status_changed_at=timezone.now() - timedelta(days=365),
    )
    elsewhere = VehicleFactory()

    assert client.get(f"/api/v2/vehicles/{recent.pk}/").json()["status"] == "sold"
    assert client.get(f"/api/v2/vehicles/{old.pk}/").status_code == 404
    assert client.get(f"/api/v2/vehicles/{elsewhere.pk}/").status_code == 404


def test_listing_query_count_does_not_grow_with_vehicles(client, showroom_dealership):
    def count():
        client.get("/api/v2/vehicles/?limit=20")
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v2/vehicles/?limit=20").status_code == 200
        return len(captured)

    for _ in range(2):
        add_photos(VehicleFactory(dealership=showroom_dealership), count=2)
    few = count()
    for _ in range(18):
        add_photos(VehicleFactory(dealership=showroom_dealership), count=2)

    assert count() == few
