"""``vehicle_public_url``: where the lead push says a vehicle can be seen."""

import pytest
from django.utils import timezone

from tests.factories import DealershipFactory, VehicleFactory
from tests.showroom_fixtures import add_listing_page
from wagtail_easycars.models import Vehicle
from wagtail_easycars.showroom import vehicle_public_url

pytestmark = pytest.mark.django_db


def test_listed_vehicle_has_the_absolute_url_of_its_page(listing_page, showroom_dealership):
    vehicle = VehicleFactory(dealership=showroom_dealership)

    assert vehicle_public_url(vehicle) == f"http://localhost/vehicles/{vehicle.slug}/"


def test_a_page_that_names_the_dealership_wins_over_the_site(listing_page, showroom_site, showroom_dealership):
    other = DealershipFactory()
    add_listing_page(showroom_site.root_page, slug="other-stock", dealership=other)
    vehicle = VehicleFactory(dealership=other)

    assert vehicle_public_url(vehicle) == f"http://localhost/other-stock/{vehicle.slug}/"


def test_no_url_without_a_listing_page_or_for_a_vehicle_not_listed(showroom_dealership, showroom_site):
    vehicle = VehicleFactory(dealership=showroom_dealership)
    assert vehicle_public_url(vehicle) is None

    add_listing_page(showroom_site.root_page)
    sold = VehicleFactory(dealership=showroom_dealership, status=Vehicle.Status.SOLD, status_changed_at=timezone.now())
    assert vehicle_public_url(sold) is None
    assert vehicle_public_url(None) is None


def test_an_unpublished_listing_page_gives_no_url(listing_page, showroom_dealership):
    listing_page.unpublish()
    vehicle = VehicleFactory(dealership=showroom_dealership)

    assert vehicle_public_url(vehicle) is None
