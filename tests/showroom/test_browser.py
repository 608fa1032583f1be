"""The showroom in a real Chromium: list, filter, open a vehicle, send an enquiry; saves the README screenshots."""

import os
from decimal import Decimal

import pytest

from tests.browser import browser_marks, chromium_page, expect
from tests.factories import DealershipFactory, VehicleFactory
from tests.showroom_fixtures import add_listing_page, car_picture
from wagtail_easycars.models import Lead, Vehicle, VehicleImage

pytestmark = browser_marks

STOCK = [
    # title, make, model, body, price, special, odometer, condition, colour (RGB)
    (
        "2021 Volvo V90 D5 Cross Country Inscription",
        "Volvo",
        "V90",
        "4D Wagon",
        64990,
        61990,
        38200,
        "used",
        (40, 60, 90),
    ),
    ("2023 Mazda CX-5 Akera (4x4)", "Mazda", "CX-5", "4D Wagon", 52490, None, 9800, "demo", (165, 20, 35)),
    ("2022 Toyota Hilux SR5 (4x4)", "Toyota", "Hilux", "Double Cab P/Up", 58990, None, 41250, "used", (235, 235, 238)),
    ("2024 Hyundai i30 N Line", "Hyundai", "i30", "5D Hatchback", 33990, None, 15, "new", (30, 110, 200)),
    (
        "2019 Ford Ranger Wildtrak 2.0 (4x4)",
        "Ford",
        "Ranger",
        "Double Cab P/Up",
        None,
        None,
        88400,
        "used",
        (230, 120, 20),
    ),
    ("2020 Mazda 3 G25 Astina", "Mazda", "3", "5D Hatchback", 27990, None, 52300, "used", (120, 122, 128)),
    ("2021 Kia Sportage GT-Line (AWD)", "Kia", "Sportage", "4D Wagon", 36490, None, 47800, "used", (20, 22, 26)),
    ("2022 Tesla Model 3 Long Range AWD", "Tesla", "Model 3", "4D Sedan", 49990, 47990, 31000, "used", (245, 245, 247)),
]

FUELS = {"Volvo": "Diesel", "Toyota": "Diesel", "Ford": "Diesel", "Tesla": "Electric"}


@pytest.fixture
def browser_page():
    with chromium_page(1280, 900, device_scale_factor=1) as page:
        yield page


def seed_showroom(site):
    dealership = DealershipFactory(name="Harbour City Motors", site=site)
    DealershipFactory(name="Elsewhere Autos")  # another dealership on no site: never shown
    add_listing_page(
        site.root_page, intro="<p>Quality new, demo and used vehicles, inspected and ready to drive away.</p>"
    )
    vehicles = []
    for n, (title, make, model, body, price, special, odometer, condition, colour) in enumerate(STOCK):
        vehicle = VehicleFactory(
            dealership=dealership,
            title=title,
            make=make,
            model=model,
            year=int(title[:4]),
            body=body,
            price=Decimal(price) if price else None,
            special_price=Decimal(special) if special else None,
            is_special=special is not None,
            odometer=odometer,
            condition=condition,
            fuel_type="Diesel"
            if make in ("Volvo", "Toyota", "Ford")
            else ("Electric" if make == "Tesla" else "Petrol"),
            gear_type="Automatic",
            gear_count=8 if make == "Volvo" else None,
            exterior_colour="Denim Blue" if make == "Volvo" else "",
            interior_colour="Charcoal Leather" if make == "Volvo" else "",
            drive_train="AWD" if make == "Volvo" else "",
            engine_capacity="2.0L" if make == "Volvo" else "",
            power_kw=Decimal("173") if make == "Volvo" else None,
            doors=4,
            seats=5,
            vin="YV1PZA8UDM1234567" if make == "Volvo" else "",
            rego_number="DEF45G" if make == "Volvo" else "",
            rego_state="NSW" if make == "Volvo" else "",
            features=(
                [
                    "Adaptive Cruise Control",
                    "Apple CarPlay",
                    "Heated Front Seats",
                    "360° Camera",
                    "Power Tailgate",
                    "Panoramic Sunroof",
                    "Bowers & Wilkins Audio",
                    "Keyless Entry & Start",
                ]
                if make == "Volvo"
                else []
            ),
            description=(
                "One owner with full Volvo service history.\n\nFinished in Denim Blue with charcoal leather, "
                "this Cross Country is ready for weekends away. <script>alert('x')</script> stays text."
                if make == "Volvo"
                else "Well maintained and ready to go."
            ),
        )
        photos = 4 if make == "Volvo" else 1
        for p in range(photos):
            shade = tuple(max(0, min(255, c + 18 * p)) for c in colour)
            VehicleImage.objects.create(
                vehicle=vehicle, image=car_picture(body=shade, name=f"car-{n}-{p}"), sort_order=p
            )
        vehicles.append(vehicle)
    return dealership, vehicles


@pytest.mark.django_db(transaction=True)
def test_shopper_filters_opens_a_vehicle_and_sends_an_enquiry(
    live_server, browser_page, screenshot_dir, monkeypatch, settings
):
    # Playwright's sync API runs an event loop in this thread; the ORM calls below are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from wagtail.models import Site

    site = Site.objects.get(is_default_site=True)
    dealership, vehicles = seed_showroom(site)
    page = browser_page

    page.goto(f"{live_server.url}/vehicles/")
    expect(page.get_by_role("heading", name="8 vehicles")).to_be_visible()
    expect(page.get_by_text("Price on application")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "showroom-listing.png"), full_page=True)

    # Choosing a make submits the filter form at once; the state is in the URL.
    page.get_by_label("Make").select_option("Mazda")
    page.wait_for_url("**make=Mazda**")
    expect(page.get_by_role("heading", name="2 vehicles")).to_be_visible()
    page.get_by_label("Max price").fill("30000")
    page.get_by_role("button", name="Show vehicles").click()
    page.wait_for_url("**price_max=30000**")
    expect(page.get_by_role("heading", name="1 vehicle", exact=True)).to_be_visible()

    page.goto(f"{live_server.url}/vehicles/?q=volvo")
    page.get_by_role("link", name="2021 Volvo V90 D5 Cross Country Inscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2021 Volvo V90 D5 Cross Country Inscription")
    expect(page.get_by_text("$61,990")).to_be_visible()
    expect(page.locator(".ec-description")).to_contain_text("<script>alert('x')</script> stays text.")
    page.screenshot(path=str(screenshot_dir / "showroom-detail.png"), full_page=True)

    page.get_by_label("Your name").fill("Alex Shopper")
    page.get_by_label("Email").fill("alex@example.com")
    page.get_by_label("I'd like to").select_option("test_drive")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Send enquiry").click()
    expect(page.get_by_text("Thank you, your enquiry has been sent.")).to_be_visible()

    lead = Lead.objects.get()
    volvo = Vehicle.objects.get(make="Volvo")
    assert (lead.name, lead.email, lead.vehicle_id, lead.dealership_id) == (
        "Alex Shopper",
        "alex@example.com",
        volvo.pk,
        dealership.pk,
    )
    assert (lead.data_source, lead.vehicle_interest, lead.finance_status) == ("webform", "test_drive", "yes")
    assert os.path.getsize(screenshot_dir / "showroom-detail.png") > 10_000

    # On a phone nothing scrolls sideways, and the filter panel starts folded.
    page.set_viewport_size({"width": 390, "height": 844})
    for url in ("/vehicles/", f"/vehicles/{volvo.slug}/"):
        page.goto(f"{live_server.url}{url}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
        name = "listing" if url == "/vehicles/" else "detail"
        page.screenshot(path=str(screenshot_dir / f"showroom-phone-{name}.png"), full_page=True)
    page.goto(f"{live_server.url}/vehicles/")
    assert page.locator("[data-ec-filters]").get_attribute("open") is None
