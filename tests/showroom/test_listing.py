"""The listing: scoping, filters and their URL state, search, sorting, pagination, prices."""

from decimal import Decimal

import pytest
from wagtail.models import Page, Site

from tests.factories import DealershipFactory, VehicleFactory
from tests.showroom_fixtures import add_listing_page, add_photos
from wagtail_easycars.models import Vehicle

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


def test_listing_hides_sold_and_unlisted_vehicles(client, listing_page, showroom_dealership):
    VehicleFactory(dealership=showroom_dealership, title="On sale")
    VehicleFactory(dealership=showroom_dealership, title="Gone", status=Vehicle.Status.SOLD)
    VehicleFactory(dealership=showroom_dealership, title="Hidden", status=Vehicle.Status.UNLISTED)

    assert listed_titles(client.get("/vehicles/")) == ["On sale"]


def test_listing_without_price_says_price_on_application_never_zero(client, listing_page, showroom_dealership):
    VehicleFactory(dealership=showroom_dealership, price=None, special_price=None)

    html = client.get("/vehicles/").content.decode()

    assert "Price on application" in html
    assert "$0" not in html


def test_special_price_is_shown_with_the_normal_price_struck_through(client, listing_page, showroom_dealership):
    VehicleFactory(dealership=showroom_dealership, price=Decimal("30000"), special_price=Decimal("27500"))

    html = client.get("/vehicles/").content.decode()

    assert '<span class="ec-price ec-price--special">$27,500</span>' in html
    assert "$30,000</del>" in html


def test_vehicle_without_photo_still_renders_a_card(client, listing_page, showroom_dealership):
    VehicleFactory(dealership=showroom_dealership, title="No photo yet")

    html = client.get("/vehicles/").content.decode()

    assert "No photo yet" in html
    assert "ec-card__nophoto" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("make=Mazda", ["Mazda CX-5"]),
        ("make=mazda", ["Mazda CX-5"]),
        ("body=4D+WAGON", ["Mazda CX-5", "Volvo V90"]),
        ("condition=new", ["Toyota Corolla"]),
        ("condition=new&condition=demo", ["Mazda CX-5", "Toyota Corolla"]),
        ("fuel=Diesel", ["Volvo V90"]),
        ("transmission=Manual", ["Toyota Corolla"]),
        ("price_min=30000", ["Mazda CX-5", "Volvo V90"]),
        ("price_max=30000", ["Toyota Corolla"]),
        ("year_min=2020&year_max=2021", ["Mazda CX-5", "Volvo V90"]),
        ("odometer_max=20000", ["Mazda CX-5", "Toyota Corolla"]),
        ("odometer_min=20000", ["Volvo V90"]),
        ("make=Mazda&model=CX-5", ["Mazda CX-5"]),
        ("make=Volvo&model=CX-5", []),
    ],
)
def test_filters_narrow_the_listing(client, listing_page, showroom_dealership, query, expected):
    d = showroom_dealership
    VehicleFactory(dealership=d, title="Volvo V90", make="Volvo", model="V90", year=2020, price=45000,
                   odometer=60000, body="4D WAGON", fuel_type="Diesel")  # fmt: skip
    VehicleFactory(dealership=d, title="Mazda CX-5", make="Mazda", model="CX-5", year=2021, price=38000,
                   odometer=9000, body="4D WAGON", condition="demo")  # fmt: skip
    VehicleFactory(dealership=d, title="Toyota Corolla", make="Toyota", model="Corolla", year=2024, price=29000,
                   odometer=10, condition="new", gear_type="Manual")  # fmt: skip

    response = client.get(f"/vehicles/?{query}&sort=price_desc")

    assert sorted(listed_titles(response)) == sorted(expected)


def test_price_filters_use_the_special_price_and_skip_price_on_application(client, listing_page, showroom_dealership):
    VehicleFactory(dealership=showroom_dealership, title="On special", price=40000, special_price=28000)
    VehicleFactory(dealership=showroom_dealership, title="Ask us", price=None)

    assert listed_titles(client.get("/vehicles/?price_max=30000")) == ["On special"]


def test_invalid_filter_values_are_ignored_not_an_error(client, listing_page, showroom_dealership):
    VehicleFactory(dealership=showroom_dealership, title="Still here")

    response = client.get("/vehicles/?price_min=abc&year_max=99999&condition=wrecked&sort=nonsense&page=x")

    assert response.status_code == 200
    assert listed_titles(response) == ["Still here"]


def test_a_make_that_is_not_in_stock_finds_nothing_and_stays_selected(client, listing_page, showroom_dealership):
    VehicleFactory(dealership=showroom_dealership, make="Mazda")

    response = client.get("/vehicles/?make=Tesla")

    assert listed_titles(response) == []
    html = response.content.decode()
    assert "No vehicles match your search." in html
    assert '<option value="Tesla" selected>' in html


def test_filter_state_is_kept_in_the_form_and_the_pagination_links(client, listing_page, showroom_dealership, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "SHOWROOM_PAGE_SIZE": 2}
    for _ in range(5):
        VehicleFactory(dealership=showroom_dealership, make="Mazda")

    html = client.get("/vehicles/?make=Mazda&price_max=90000").content.decode()

    assert '<option value="Mazda" selected>' in html
    assert 'name="price_max" value="90000"' in html
    assert 'href="?make=Mazda&amp;price_max=90000&amp;page=2"' in html


def test_free_text_search_matches_every_word_across_fields(client, listing_page, showroom_dealership):
    d = showroom_dealership
    # Years and stock numbers pinned: the factory's sequences could otherwise make "2021" match.
    VehicleFactory(
        dealership=d,
        title="2019 Ford Ranger XLT",
        make="Ford",
        model="Ranger",
        exterior_colour="Blue",
        year=2019,
        easycars_stock_number="A1",
    )
    VehicleFactory(
        dealership=d,
        title="2020 Ford Focus",
        make="Ford",
        model="Focus",
        description="Sunroof, blue",
        year=2020,
        easycars_stock_number="A2",
    )
    VehicleFactory(dealership=d, title="2021 Mazda 3", make="Mazda", model="3", year=2021, easycars_stock_number="A3")

    assert sorted(listed_titles(client.get("/vehicles/?q=ford+blue"))) == ["2019 Ford Ranger XLT", "2020 Ford Focus"]
    assert listed_titles(client.get("/vehicles/?q=ranger")) == ["2019 Ford Ranger XLT"]
    assert listed_titles(client.get("/vehicles/?q=sunroof")) == ["2020 Ford Focus"]
    assert listed_titles(client.get("/vehicles/?q=2021")) == ["2021 Mazda 3"]
    assert listed_titles(client.get("/vehicles/?q=tesla")) == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price_asc", ["cheap", "dear", "poa"]),
        ("price_desc", ["dear", "cheap", "poa"]),
        ("year_desc", ["poa", "dear", "cheap"]),
        ("year_asc", ["cheap", "dear", "poa"]),
        ("odometer_asc", ["dear", "poa", "cheap"]),
        ("newest", ["poa", "dear", "cheap"]),
        ("", ["poa", "dear", "cheap"]),
    ],
)
def test_sorting_orders_by_price_year_odometer_or_newest(client, listing_page, showroom_dealership, sort, expected):
    d = showroom_dealership
    VehicleFactory(dealership=d, title="cheap", price=10000, year=2015, odometer=150000)
    VehicleFactory(dealership=d, title="dear", price=90000, special_price=80000, year=2020, odometer=100)
    VehicleFactory(dealership=d, title="poa", price=None, year=2024, odometer=5000)

    assert listed_titles(client.get(f"/vehicles/?sort={sort}")) == expected


def test_pagination_edges(client, listing_page, showroom_dealership, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "SHOWROOM_PAGE_SIZE": 2}
    for n in range(5):
        VehicleFactory(dealership=showroom_dealership, title=f"car {n}", year=2000 + n)

    first = client.get("/vehicles/?sort=year_asc")
    last = client.get("/vehicles/?sort=year_asc&page=3")
    beyond = client.get("/vehicles/?sort=year_asc&page=99")
    garbage = client.get("/vehicles/?sort=year_asc&page=-1")

    assert listed_titles(first) == ["car 0", "car 1"]
    assert first.context["result_count"] == 5
    assert listed_titles(last) == ["car 4"]
    assert listed_titles(beyond) == ["car 4"]
    assert listed_titles(garbage) == ["car 0", "car 1"]
    assert 'rel="next"' in first.content.decode()
    assert 'rel="next"' not in last.content.decode()
    assert last.context["canonical_url"].endswith("/vehicles/?page=3")


def test_empty_listing_and_empty_search_say_so(client, listing_page, showroom_dealership):
    assert "There are no vehicles for sale right now" in client.get("/vehicles/").content.decode()
    VehicleFactory(dealership=showroom_dealership)
    assert "No vehicles match your search" in client.get("/vehicles/?q=zzz").content.decode()


def test_model_choices_follow_the_chosen_make(client, listing_page, showroom_dealership):
    VehicleFactory(dealership=showroom_dealership, make="Mazda", model="CX-5")
    VehicleFactory(dealership=showroom_dealership, make="Toyota", model="Hilux")

    form = client.get("/vehicles/?make=Mazda").context["filter_form"]

    assert [value for value, _ in form.fields["model"].choices if value] == ["CX-5"]


def test_each_site_shows_only_its_own_dealerships_stock(client, listing_page, showroom_dealership):
    other_home = Page.get_first_root_node().add_child(instance=Page(title="Other", slug="other-home"))
    other_site = Site.objects.create(hostname="other.example", port=80, root_page=other_home)
    other_dealer = DealershipFactory(name="Other Motors", site=other_site)
    add_listing_page(other_home)
    ours = VehicleFactory(dealership=showroom_dealership, title="Ours")
    theirs = VehicleFactory(dealership=other_dealer, title="Theirs")

    assert listed_titles(client.get("/vehicles/")) == ["Ours"]
    assert listed_titles(client.get("/vehicles/", HTTP_HOST="other.example")) == ["Theirs"]
    assert client.get(f"/vehicles/{theirs.slug}/").status_code == 404
    assert client.get(f"/vehicles/{ours.slug}/", HTTP_HOST="other.example").status_code == 404


def test_a_page_can_choose_its_dealership_explicitly(client, showroom_site, showroom_dealership):
    chosen = DealershipFactory(name="Chosen Motors")
    add_listing_page(showroom_site.root_page, slug="chosen", dealership=chosen)
    VehicleFactory(dealership=showroom_dealership, title="Site dealer's")
    VehicleFactory(dealership=chosen, title="Chosen dealer's")

    assert listed_titles(client.get("/chosen/")) == ["Chosen dealer's"]


def test_a_page_without_any_dealership_lists_nothing(client, showroom_site):
    add_listing_page(showroom_site.root_page)
    VehicleFactory(title="Someone else's")

    response = client.get("/vehicles/")

    assert response.status_code == 200
    assert listed_titles(response) == []


def test_search_treats_like_wildcards_as_plain_text(client, listing_page, showroom_dealership):
    VehicleFactory(dealership=showroom_dealership, title="100% original", make="Ford")
    VehicleFactory(dealership=showroom_dealership, title="Plain", make="Ford")

    assert listed_titles(client.get("/vehicles/?q=100%25")) == ["100% original"]
    assert listed_titles(client.get("/vehicles/?q=_")) == []
