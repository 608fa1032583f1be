"""The enquiry form: a valid enquiry becomes a web-form lead; spam and abuse do not."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, connections
from django.test import Client
from django.utils import timezone

from tests.factories import VehicleFactory
from wagtail_easycars.models import EnquiryRateCounter, Lead, Vehicle
from wagtail_easycars.showroom.forms import EnquiryForm, allow_enquiry

pytestmark = pytest.mark.django_db


@pytest.fixture
def vehicle(showroom_dealership):
    return VehicleFactory(dealership=showroom_dealership, title="2021 Mazda CX-5 Akera", make="Mazda")


def enquiry(**overrides):
    data = {
        "name": "Alex Shopper",
        "email": "alex@example.com",
        "phone": "",
        "vehicle_interest": "test_drive",
        "finance_status": "maybe",
        "message": "Is it still available?",
        "website": "",
    }
    data.update(overrides)
    return data


def test_valid_enquiry_creates_a_webform_lead_and_confirms_at_once(client, listing_page, vehicle):
    url = f"/vehicles/{vehicle.slug}/"

    response = client.post(url, enquiry())

    assert response.status_code == 302
    assert response["Location"] == f"{url}?enquiry=sent#enquiry"
    lead = Lead.objects.get()
    assert lead.vehicle == vehicle
    assert lead.dealership == vehicle.dealership
    assert lead.data_source == Lead.DataSource.WEBFORM
    assert (lead.name, lead.email, lead.message) == ("Alex Shopper", "alex@example.com", "Is it still available?")
    assert (lead.vehicle_interest, lead.finance_status) == ("test_drive", "maybe")
    assert "Thank you, your enquiry has been sent." in client.get(response["Location"]).content.decode()


def test_phone_alone_is_enough_to_reply(client, listing_page, vehicle):
    client.post(f"/vehicles/{vehicle.slug}/", enquiry(email="", phone="+61 400 123 456", finance_status=""))

    lead = Lead.objects.get()
    assert (lead.phone, lead.email, lead.finance_status) == ("+61 400 123 456", "", "")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"email": "", "phone": ""}, "Please give an email address or a phone number so we can reply."),
        ({"phone": "call me maybe"}, "Enter a phone number using digits"),
        ({"vehicle_interest": "steal"}, "Select a valid choice."),
        ({"finance_status": "perhaps"}, "Select a valid choice."),
        ({"message": "x" * 2001}, "Ensure this value has at most 2000 characters"),
    ],
)
def test_invalid_enquiry_shows_field_errors_and_keeps_the_input(client, listing_page, vehicle, overrides, message):
    response = client.post(f"/vehicles/{vehicle.slug}/", enquiry(**overrides))

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'role="alert"' in html
    assert not Lead.objects.exists()


def test_invalid_enquiry_marks_the_field_and_keeps_what_was_typed(client, listing_page, vehicle):
    response = client.post(f"/vehicles/{vehicle.slug}/", enquiry(email="not-an-email"))

    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'value="Alex Shopper"' in html
    assert "Is it still available?</textarea>" in html


def test_filled_honeypot_looks_like_success_but_stores_nothing(client, listing_page, vehicle):
    response = client.post(f"/vehicles/{vehicle.slug}/", enquiry(website="http://spam.example"))

    assert response.status_code == 302
    assert "enquiry=sent" in response["Location"]
    assert not Lead.objects.exists()


def test_enquiries_are_rate_limited_per_ip(client, listing_page, vehicle, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENQUIRY_RATE_LIMIT": 2}
    url = f"/vehicles/{vehicle.slug}/"

    statuses = [client.post(url, enquiry(), REMOTE_ADDR="203.0.113.9").status_code for _ in range(3)]
    blocked = client.post(url, enquiry(), REMOTE_ADDR="203.0.113.9")
    other_ip = client.post(url, enquiry(), REMOTE_ADDR="198.51.100.7")

    assert statuses == [302, 302, 200]
    assert "You have sent several enquiries in the last hour" in blocked.content.decode()
    assert other_ip.status_code == 302
    assert Lead.objects.count() == 3


def test_enquiry_without_csrf_token_is_rejected(listing_page, vehicle):
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(f"/vehicles/{vehicle.slug}/", enquiry())

    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_enquiry_with_csrf_token_from_the_page_is_accepted(listing_page, vehicle):
    strict = Client(enforce_csrf_checks=True)
    page = strict.get(f"/vehicles/{vehicle.slug}/")
    token = page.context["csrf_token"]

    response = strict.post(f"/vehicles/{vehicle.slug}/", enquiry(csrfmiddlewaretoken=str(token)))

    assert response.status_code == 302
    assert Lead.objects.count() == 1


def test_sold_vehicle_takes_no_enquiry(client, listing_page, vehicle):
    from django.utils import timezone

    Vehicle.objects.filter(pk=vehicle.pk).update(status=Vehicle.Status.SOLD, status_changed_at=timezone.now())

    response = client.post(f"/vehicles/{vehicle.slug}/", enquiry())

    assert response.status_code == 200
    assert not Lead.objects.exists()


# Characters nobody types -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "Alex\x1b[31m Shopper"},
        {"name": "Alex\x00Shopper"},
        {"phone": "0400\x07123456"},
        {"message": "Is it\x0b still available?"},
        {"message": "Nul\x00 in the message"},
    ],
    ids=repr,
)
def test_control_characters_are_a_form_error_and_nothing_is_stored(client, listing_page, vehicle, overrides):
    response = client.post(f"/vehicles/{vehicle.slug}/", enquiry(**overrides))

    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Lead.objects.exists()


def test_line_breaks_and_tabs_in_the_message_are_kept(client, listing_page, vehicle):
    client.post(f"/vehicles/{vehicle.slug}/", enquiry(message="Hello,\r\n\tis it still available?"))

    assert Lead.objects.get().message == "Hello,\r\n\tis it still available?"


@pytest.mark.parametrize("field", ["name", "message"])
def test_a_lone_surrogate_is_a_form_error(vehicle, field):
    """A form post cannot carry one (the body is decoded with replacement); a site feeding JSON to the form can."""
    form = EnquiryForm(enquiry(**{field: "Alex \ud800"}), vehicle=vehicle)

    assert not form.is_valid()
    assert field in form.errors


# The rate limit's window ----------------------------------------------------------------------


def test_a_lapsed_window_starts_again_and_lapsed_rows_are_pruned(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENQUIRY_RATE_LIMIT": 2}
    assert [allow_enquiry("203.0.113.9") for _ in range(3)] == [True, True, False]
    EnquiryRateCounter.objects.update(window_end=timezone.now() - timedelta(seconds=1))

    assert [allow_enquiry("203.0.113.9") for _ in range(3)] == [True, True, False]
    assert EnquiryRateCounter.objects.get().count == 2

    EnquiryRateCounter.objects.update(window_end=timezone.now() - timedelta(seconds=1))
    allow_enquiry("198.51.100.7")
    assert EnquiryRateCounter.objects.count() == 1  # the lapsed row went when a new sender came


def test_the_address_is_not_stored_in_clear():
    allow_enquiry("203.0.113.9")

    assert "203.0.113.9" not in repr(list(EnquiryRateCounter.objects.values()))


# The rate limit holds under concurrency, on every cache ------------------------------------------

RATE_CACHE_TABLE = "easycars_rate_test_cache"
RATE_CACHES = {
    "file": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache"},
    "database": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": RATE_CACHE_TABLE},
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "easycars-rate-test"},
}


def wait_while_locked(execute, sql, params, many, context):
    """Retry a statement SQLite refused with "database table is locked", for up to 10 seconds.

    The suite's in-memory SQLite database shares one cache between connections, and there a
    statement meeting another connection's lock fails at once instead of waiting as on a database
    file (``timeout``). A refused statement did nothing, so running it again is what waiting does.
    """
    deadline = time.monotonic() + 10
    while True:
        try:
            return execute(sql, params, many, context)
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.001)


def in_threads(function, count=20):
    """``count`` calls of ``function``, released together, each in a thread with its own connection; their results.

    The threads' connections commit on their own, outside the test's transaction: what they write
    stays, so a test cleans it up (``rate_limit_of_5`` does).
    """
    start = threading.Barrier(count)

    def call(_):
        start.wait()
        try:
            if connection.vendor != "sqlite":
                return function()
            with connection.execute_wrapper(wait_while_locked):
                return function()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def _drop_rate_cache_table():
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RATE_CACHE_TABLE}")


@pytest.fixture(params=sorted(RATE_CACHES))
def rate_limit_of_5(request, settings, tmp_path):
    """``ENQUIRY_RATE_LIMIT`` 5, and the package's cache alias on each kind of cache in turn."""
    cache = dict(RATE_CACHES[request.param])
    cache.setdefault("LOCATION", str(tmp_path / "cache"))
    settings.CACHES = {**settings.CACHES, "easycars-rate": cache}
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "CACHE_ALIAS": "easycars-rate", "ENQUIRY_RATE_LIMIT": 5}
    if request.param == "database":
        in_threads(lambda: call_command("createcachetable", RATE_CACHE_TABLE), count=1)
    yield request.param
    in_threads(lambda: EnquiryRateCounter.objects.all().delete(), count=1)
    if request.param == "database":
        in_threads(_drop_rate_cache_table, count=1)


def test_parallel_enquiries_under_a_limit_of_5_allow_exactly_5(rate_limit_of_5):
    """20 enquiries from one address at once (the count an enquiry makes before its lead is stored)."""
    results = in_threads(lambda: allow_enquiry("198.51.100.7"))

    assert results.count(True) == 5
    assert in_threads(lambda: allow_enquiry("198.51.100.8"), count=1) == [True]  # another address counts apart
