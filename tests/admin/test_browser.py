"""The vehicle and lead admin in real Chromium: list, inspect, resolve a conflict, send an unsent enquiry.

Saves docs/screenshots/admin-vehicles.png and admin-lead-unsent.png.
"""

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.admin_support import make_editor
from tests.browser import browser_marks, chromium_page, expect
from tests.factories import DealershipFactory, EasyCarsVehicleFactory, VehicleFactory
from wagtail_easycars.models import FieldChange, PotentialDuplicate, Vehicle, VehicleConflict

pytestmark = browser_marks

STOCK = [
    # title, make, model, stock number, price, hours since sync, locked fields
    ("2021 Volvo V90 D5 Cross Country", "Volvo", "V90", "HC-10421", 64990, 1, ["price"]),
    ("2023 Mazda CX-5 Akera (4x4)", "Mazda", "CX-5", "HC-10388", 52490, 1, []),
    ("2022 Toyota HiLux SR5 (4x4)", "Toyota", "HiLux", "HC-10377", 58990, 1, ["description", "title"]),
    ("2024 Hyundai i30 N Line", "Hyundai", "i30", "HC-10402", 33990, 1, []),
    ("2019 Ford Ranger Wildtrak 2.0 (4x4)", "Ford", "Ranger", "HC-10290", None, 26, []),
    ("2021 Kia Sportage GT-Line (AWD)", "Kia", "Sportage", "HC-10355", 36490, 1, []),
]


@pytest.fixture
def browser_page():
    with chromium_page(1400, 860, device_scale_factor=1) as page:
        yield page


def seed_stock():
    dealership = DealershipFactory(name="Harbour City Motors", slug="harbour-city")
    now = timezone.now()
    vehicles = {}
    for title, make, model, stock_number, price, hours, locked in STOCK:
        vehicles[make] = EasyCarsVehicleFactory(
            dealership=dealership,
            title=title,
            make=make,
            model=model,
            year=int(title[:4]),
            easycars_stock_number=stock_number,
            price=Decimal(price) if price else None,
            last_synced_from_easycars=now - datetime.timedelta(hours=hours),
            locked_fields=locked,
            vin=f"VIN{stock_number.replace('-', '')}00000",
        )
    manual = VehicleFactory(
        dealership=dealership, title="2019 Ford Ranger (typed in)", make="Ford", model="Ranger", price=Decimal(45500)
    )
    PotentialDuplicate.objects.create(
        dealership=dealership, manual_vehicle=manual, easycars_vehicle=vehicles["Ford"], reason="stock_number"
    )
    volvo = vehicles["Volvo"]
    volvo.price = Decimal("62990.00")
    volvo.save()
    VehicleConflict.objects.create(vehicle=volvo, field="price", local_value="62990.00", easycars_value="64990.00")
    for days, old, new in ((21, "67990.00", "66990.00"), (9, "66990.00", "64990.00")):
        change = FieldChange.objects.create(vehicle=volvo, field="price", old_value=old, new_value=new)
        FieldChange.objects.filter(pk=change.pk).update(changed_at=now - datetime.timedelta(days=days))
    change = FieldChange.objects.create(vehicle=volvo, field="odometer", old_value=38100, new_value=38200)
    FieldChange.objects.filter(pk=change.pk).update(changed_at=now - datetime.timedelta(days=2))
    return dealership, volvo


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def stack(top_png, bottom_png, path):
    """Two screenshots one above the other, with a thin divider: one image for the docs."""
    from PIL import Image

    top, bottom = Image.open(io.BytesIO(top_png)), Image.open(io.BytesIO(bottom_png))
    width = max(top.width, bottom.width)
    combined = Image.new("RGB", (width, top.height + bottom.height + 6), (200, 200, 205))
    combined.paste(top, (0, 0))
    combined.paste(bottom, (0, top.height + 6))
    path.parent.mkdir(parents=True, exist_ok=True)
    combined.save(path, optimize=True)


@pytest.mark.django_db(transaction=True)
def test_editor_reviews_stock_and_accepts_the_easycars_price(
    live_server, browser_page, screenshot_dir, monkeypatch, settings
):
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.WAGTAIL_GRAVATAR_PROVIDER_URL = None  # no network here: avatars would show as broken images
    dealership, volvo = seed_stock()
    editor = make_editor(dealership)
    editor.first_name, editor.last_name = "Sam", "Taylor"
    editor.save()
    page = browser_page
    log_in(page, live_server, editor)

    page.goto(f"{live_server.url}/admin/snippets/wagtail_easycars/vehicle/")
    expect(page.get_by_role("link", name="2021 Volvo V90 D5 Cross Country")).to_be_visible()
    expect(page.get_by_text("HC-10421")).to_be_visible()
    expect(page.get_by_text("2 locked")).to_be_visible()
    page.mouse.move(0, 0)
    listing = page.screenshot(clip={"x": 0, "y": 0, "width": 1400, "height": 535})

    page.goto(f"{live_server.url}/admin/snippets/wagtail_easycars/vehicle/?sync_state=has_conflicts")
    expect(page.get_by_role("link", name="2021 Volvo V90 D5 Cross Country")).to_be_visible()
    expect(page.get_by_role("link", name="2023 Mazda CX-5 Akera (4x4)")).to_have_count(0)

    page.get_by_role("link", name="2021 Volvo V90 D5 Cross Country").click()  # the edit view
    page.goto(f"{live_server.url}/admin/snippets/wagtail_easycars/vehicle/inspect/{volvo.pk}/")
    expect(page.get_by_role("heading", name="EasyCars sync")).to_be_visible()
    expect(page.get_by_role("button", name="Accept EasyCars value")).to_be_visible()
    page.mouse.move(0, 0)
    inspect = page.screenshot(clip={"x": 0, "y": 0, "width": 1400, "height": 820})
    stack(listing, inspect, screenshot_dir / "admin-vehicles.png")

    page.get_by_role("button", name="Accept EasyCars value").click()
    expect(page.get_by_text("now has the EasyCars value")).to_be_visible()
    volvo.refresh_from_db()
    assert volvo.price == Decimal("64990.00")
    assert "price" not in volvo.locked_fields

    page.goto(f"{live_server.url}/admin/snippets/wagtail_easycars/vehicle/field-history/{volvo.pk}/?field=price")
    expect(page.get_by_text("Conflict resolution")).to_be_visible()
    assert Vehicle.objects.get(pk=volvo.pk).price == Decimal("64990.00")


@pytest.mark.django_db(transaction=True)
def test_editor_sends_an_enquiry_saved_before_easycars_was_connected(
    live_server, browser_page, screenshot_dir, monkeypatch, settings, sandbox_settings
):
    from tests.factories import CredentialFactory, LeadFactory
    from wagtail_easycars.models import Lead

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.WAGTAIL_GRAVATAR_PROVIDER_URL = None
    dealership, volvo = seed_stock()
    lead = LeadFactory(
        dealership=dealership, vehicle=volvo, name="Priya Natarajan", email="priya@example.com", data_source="webform"
    )
    assert lead.sync_state == Lead.SyncState.NOT_APPLICABLE
    CredentialFactory(dealership=dealership)  # EasyCars is connected afterwards
    editor = make_editor(dealership)
    page = browser_page
    log_in(page, live_server, editor)

    page.goto(f"{live_server.url}/admin/snippets/wagtail_easycars/lead/inspect/{lead.pk}/")
    expect(page.get_by_text("has not been sent to EasyCars")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "admin-lead-unsent.png"))
    page.get_by_role("button", name="Send to EasyCars").click()

    expect(page.get_by_text("is queued to be sent to EasyCars;")).to_be_visible()
    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.SENT
    assert lead.easycars_lead_number
    page.reload()
    expect(page.get_by_text(lead.easycars_lead_number).first).to_be_visible()
