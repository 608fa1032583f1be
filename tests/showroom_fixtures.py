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


def car_picture(body=(200, 30, 40), sky=((206, 224, 240), (245, 248, 252)), size=(960, 720), name="car"):
    """A JPEG of a simple car illustration (for screenshots that look like a real showroom)."""
    from PIL import ImageDraw, ImageFilter

    width, height = size
    picture = PILImage.new("RGB", size, sky[1])
    draw = ImageDraw.Draw(picture)
    for y in range(height):  # sky gradient, then a floor
        t = y / height
        colour = tuple(int(sky[0][i] * (1 - t) + sky[1][i] * t) for i in range(3))
        draw.line([(0, y), (width, y)], fill=colour)
    floor = int(height * 0.72)
    draw.rectangle((0, floor, width, height), fill=(226, 229, 233))
    shadow = PILImage.new("L", size, 0)
    ImageDraw.Draw(shadow).ellipse((width * 0.12, floor - 18, width * 0.88, floor + 30), fill=120)
    picture.paste((60, 64, 70), mask=shadow.filter(ImageFilter.GaussianBlur(14)))
    draw = ImageDraw.Draw(picture)
    u = width / 100
    top = floor - 30 * u
    dark = tuple(max(0, c - 60) for c in body)
    draw.polygon(  # cabin
        [(28 * u, top + 12 * u), (38 * u, top + 1 * u), (64 * u, top + 1 * u), (76 * u, top + 12 * u)], fill=dark
    )
    draw.polygon(
        [(31 * u, top + 12 * u), (39.5 * u, top + 3.2 * u), (50 * u, top + 3.2 * u), (50 * u, top + 12 * u)],
        fill=(170, 196, 218),
    )
    draw.polygon(
        [(52 * u, top + 12 * u), (52 * u, top + 3.2 * u), (63 * u, top + 3.2 * u), (72.5 * u, top + 12 * u)],
        fill=(170, 196, 218),
    )
    draw.rounded_rectangle((12 * u, top + 11 * u, 90 * u, top + 23 * u), radius=int(4 * u), fill=body)
    draw.rectangle((14 * u, top + 17 * u, 88 * u, top + 17.6 * u), fill=dark)
    draw.ellipse((84 * u, top + 13 * u, 89 * u, top + 16 * u), fill=(255, 236, 170))
    draw.rectangle((12.5 * u, top + 13 * u, 15 * u, top + 16 * u), fill=(200, 40, 40))
    for cx in (27 * u, 74 * u):
        draw.ellipse((cx - 7 * u, top + 16 * u, cx + 7 * u, top + 30 * u), fill=(30, 32, 36))
        draw.ellipse((cx - 3.6 * u, top + 19.4 * u, cx + 3.6 * u, top + 26.6 * u), fill=(185, 190, 198))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=88)
    buffer.seek(0)
    return get_image_model().objects.create(title=name, file=ImageFile(buffer, name=f"{name}.jpg"))
