"""Shared set-up for the showroom tests: a dealership on the default Site with a listing page, and photos."""

import io

import pytest
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.models import Site

from tests.factories import DealershipFactory
from tests.testapp.models import VehicleListingPage
from wagtail_easycars.models import VehicleImage


def make_image(title="photo", colour=(30, 90, 160), size=(64, 48)):
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "JPEG")
    buffer.seek(0)
    return get_image_model().objects.create(title=title, file=ImageFile(buffer, name=f"{title}.jpg"))


def add_photos(vehicle, count=1, **image_kwargs):
    return [
        VehicleImage.objects.create(
            vehicle=vehicle, image=make_image(f"v{vehicle.pk}-{n}", **image_kwargs), sort_order=n
        )
        for n in range(count)
    ]


def add_listing_page(parent, *, title="Vehicles", slug="vehicles", **fields):
    page = VehicleListingPage(title=title, slug=slug, **fields)
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def showroom_site():
    """The default Site (created by Wagtail's migrations; the test client's host falls back to it)."""
    return Site.objects.get(is_default_site=True)


@pytest.fixture
def showroom_dealership(showroom_site):
    return DealershipFactory(name="Harbour City Motors", site=showroom_site)


@pytest.fixture
def listing_page(showroom_site, showroom_dealership):
    """A published listing page at /vehicles/ showing ``showroom_dealership`` (through the Site)."""
    return add_listing_page(showroom_site.root_page)
