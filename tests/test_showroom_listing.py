from decimal import Decimal

import pytest

from tests.factories import VehicleFactory
from tests.showroom_fixtures import add_photos

pytestmark = pytest.mark.django_db


def listed_titles(response):
    return [vehicle.title for vehicle in response.context["vehicles"]]


def test_listing_shows_the_dealerships_available_vehicles_with_photo_and_price(
    client, listing_page, showroom_dealership
):
    vehicle = VehicleFactory(
        dealership=showroom_dealership, title="2020 Volvo V90 D5", price=Decimal("45990"), odometer=45000
    )
    add_photos(vehicle)

    response = client.get("/vehicles/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "2020 Volvo V90 D5" in html
    assert "$45,990" in html
    assert "45,000 km" in html
    assert 'loading="lazy"' in html
    assert 'width="' in html
    assert 'alt="2020 Volvo V90 D5"' in html
    assert f'href="/vehicles/{vehicle.slug}/"' in html
