"""A vehicle's page: details, escaping, structured data, slugs, and what happens once it is sold."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import VehicleFactory
from tests.showroom_fixtures import add_photos
from wagtail_easycars.models import Vehicle, VehicleImage

pytestmark = pytest.mark.django_db

JSON_LD_RE = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def json_ld(response):
    (payload,) = JSON_LD_RE.findall(response.content.decode())
    return json.loads(payload)


@pytest.fixture
def volvo(showroom_dealership):
    vehicle = VehicleFactory(
        dealership=showroom_dealership,
        title="2020 Volvo V90 D5 Inscription",
        year=2020,
        make="Volvo",
        model="V90",
        badge="D5",
        price=Decimal("49990"),
        special_price=Decimal("46990"),
        odometer=38200,
        exterior_colour="Denim Blue",
        vin="YV1PZA8UDM1234567",
        features=["Heated seats", "Sunroof"],
        description="One owner.\nFull service history.",
    )
    add_photos(vehicle, count=3)
    return vehicle


def test_vehicle_page_shows_gallery_prices_specs_features_and_form(client, listing_page, volvo):
    response = client.get(f"/vehicles/{volvo.slug}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert volvo.slug == f"2020-volvo-v90-d5-{volvo.pk}"
    assert '<h1 class="ec-vehicle__title">2020 Volvo V90 D5 Inscription</h1>' in html
    assert "$46,990" in html
    assert "$49,990</del>" in html
    assert html.count('class="ec-gallery__slide"') == 3
    assert "<dt>Exterior colour</dt><dd>Denim Blue</dd>" in html
    assert "<dt>VIN</dt><dd>YV1PZA8UDM1234567</dd>" in html
    assert "<li>Heated seats</li>" in html
    assert "<p>One owner.<br>Full service history.</p>" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "<dt>Seats</dt>" not in html  # absent specs are left out


def test_hostile_description_features_and_title_are_escaped(client, listing_page, showroom_dealership):
    vehicle = VehicleFactory(
        dealership=showroom_dealership,
        title='Evil "car" <img src=x onerror=alert(1)>',
        description="<script>alert('x')</script>\n</script><b>bold</b>",
        features=["<svg onload=alert(2)>"],
        short_description="</script><script>alert(3)</script>",
    )

    response = client.get(f"/vehicles/{vehicle.slug}/")
    html = response.content.decode()

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<svg onload" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;<br>&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
    data = json_ld(response)  # the JSON-LD element cannot be closed early, and still parses
    assert data["description"] == "</script><script>alert(3)</script>"
    assert data["name"] == 'Evil "car" <img src=x onerror=alert(1)>'


def test_json_ld_describes_the_car_and_its_offer(client, listing_page, volvo):
    data = json_ld(client.get(f"/vehicles/{volvo.slug}/"))

    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Car"
    assert data["brand"] == {"@type": "Brand", "name": "Volvo"}
    assert data["vehicleModelDate"] == "2020"
    assert data["mileageFromOdometer"] == {"@type": "QuantitativeValue", "value": 38200, "unitCode": "KMT"}
    assert data["vehicleIdentificationNumber"] == "YV1PZA8UDM1234567"
    assert data["url"] == f"http://localhost/vehicles/{volvo.slug}/"
    assert len(data["image"]) == 3
    assert all(url.startswith("http://") for url in data["image"])
    assert data["offers"]["@type"] == "Offer"
    assert data["offers"]["price"] == 46990
    assert data["offers"]["priceCurrency"] == "AUD"
    assert data["offers"]["availability"] == "https://schema.org/InStock"
    assert data["offers"]["seller"] == {"@type": "AutoDealer", "name": "Harbour City Motors"}


def test_price_on_application_offer_has_no_price(client, listing_page, showroom_dealership):
    vehicle = VehicleFactory(dealership=showroom_dealership, price=None)

    response = client.get(f"/vehicles/{vehicle.slug}/")

    assert "Price on application" in response.content.decode()
    assert "price" not in json_ld(response)["offers"]


def test_vehicle_page_has_title_description_canonical_and_open_graph_image(client, listing_page, volvo):
    html = client.get(f"/vehicles/{volvo.slug}/").content.decode()

    assert "<title>2020 Volvo V90 D5 Inscription | Harbour City Motors</title>" in html
    assert '<meta name="description" content="2020 Volvo V90 D5 Inscription, 38,200 km' in html
    assert f'<link rel="canonical" href="http://localhost/vehicles/{volvo.slug}/">' in html
    og_image = re.search(r'<meta property="og:image" content="([^"]+)">', html).group(1)
    assert og_image.startswith("http://")
    assert ".fill-1200x630" in og_image


def test_cloudinary_photos_render_with_a_size_transformation(client, listing_page, showroom_dealership):
    vehicle = VehicleFactory(dealership=showroom_dealership)
    VehicleImage.objects.create(
        vehicle=vehicle, external_url="https://res.cloudinary.com/demo/image/upload/v1/cars/abc.jpg", alt_text="Front"
    )

    listing = client.get("/vehicles/").content.decode()
    detail = client.get(f"/vehicles/{vehicle.slug}/").content.decode()

    assert "https://res.cloudinary.com/demo/image/upload/c_fill,w_640,h_480,q_auto,f_auto/v1/cars/abc.jpg" in listing
    assert 'alt="Front"' in listing
    assert "/upload/c_limit,w_1280,h_960,q_auto,f_auto/v1/cars/abc.jpg" in detail


def test_a_photo_whose_file_is_missing_does_not_break_the_page(client, listing_page, showroom_dealership):
    vehicle = VehicleFactory(dealership=showroom_dealership, title="Lost file")
    (photo,) = add_photos(vehicle)
    photo.image.file.storage.delete(photo.image.file.name)

    assert client.get("/vehicles/").status_code == 200
    assert client.get(f"/vehicles/{vehicle.slug}/").status_code == 200


def test_an_outdated_slug_redirects_permanently_to_the_current_one(client, listing_page, volvo):
    response = client.get(f"/vehicles/2018-volvo-xc60-{volvo.pk}/")

    assert response.status_code == 301
    assert response["Location"] == f"/vehicles/{volvo.slug}/"
    assert client.get(f"/vehicles/{volvo.pk}/").status_code == 301


def test_unknown_vehicle_is_a_404(client, listing_page):
    assert client.get("/vehicles/2020-volvo-v90-999999/").status_code == 404


def test_sold_vehicle_within_grace_shows_sold_notice_and_similar_vehicles(client, listing_page, showroom_dealership):
    sold = VehicleFactory(
        dealership=showroom_dealership,
        title="Sold Mazda",
        make="Mazda",
        price=30000,
        status=Vehicle.Status.SOLD,
        status_changed_at=timezone.now() - timedelta(days=3),
    )
    similar = VehicleFactory(dealership=showroom_dealership, title="Another Mazda", make="Mazda", price=31000)
    add_photos(similar)
    VehicleFactory(dealership=showroom_dealership, title="A ute", make="Ford", body="UTE", price=30000)

    response = client.get(f"/vehicles/{sold.slug}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "This vehicle has been sold." in html
    assert '<meta name="robots" content="noindex, follow">' in html
    assert [v.title for v in response.context["similar_vehicles"]] == ["Another Mazda"]
    assert f'href="/vehicles/{similar.slug}/"' in html
    assert json_ld(response)["offers"]["availability"] == "https://schema.org/SoldOut"
    assert 'name="csrfmiddlewaretoken"' not in html  # no enquiry form for a sold car


def test_unlisted_vehicle_within_grace_says_no_longer_available(client, listing_page, showroom_dealership):
    vehicle = VehicleFactory(
        dealership=showroom_dealership, status=Vehicle.Status.UNLISTED, status_changed_at=timezone.now()
    )

    assert "This vehicle is no longer available." in client.get(f"/vehicles/{vehicle.slug}/").content.decode()


def test_sold_vehicle_after_grace_redirects_permanently_to_the_listing(
    client, listing_page, showroom_dealership, settings
):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "SOLD_GRACE_DAYS": 10}
    vehicle = VehicleFactory(
        dealership=showroom_dealership,
        status=Vehicle.Status.SOLD,
        status_changed_at=timezone.now() - timedelta(days=11),
    )

    response = client.get(f"/vehicles/{vehicle.slug}/")

    assert response.status_code == 301
    assert response["Location"] == "/vehicles/"
