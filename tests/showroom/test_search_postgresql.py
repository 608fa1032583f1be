"""PostgreSQL: the showroom search reads the generated ``search_text`` column (migration 0005).

The column is computed by PostgreSQL on every write, so the stock sync's COPY, ``bulk_create`` and
``bulk_update`` keep it current without Django knowing about it.
"""

import pytest
from django.db import connection

from tests.factories import VehicleFactory
from tests.showroom_fixtures import add_listing_page
from wagtail_easycars.models import Vehicle
from wagtail_easycars.sync.stock.sync import sync_stock

from ..factories import CredentialFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the generated search_text column and its trigram index exist on PostgreSQL only",
    ),
]


def listed_titles(response):
    return sorted(vehicle.title for vehicle in response.context["vehicles"])


def test_vehicles_written_by_the_sync_are_found_through_the_generated_column(
    client, sandbox, sandbox_settings, showroom_site
):
    dealership = CredentialFactory().dealership
    dealership.site = showroom_site
    dealership.save()
    add_listing_page(showroom_site.root_page)
    sync_stock(dealership, images=False)  # first import: COPY
    number = sandbox.control.stock()[0]["StockNumber"]
    assert Vehicle.objects.filter(dealership=dealership).count() > 1

    sandbox.control.edit_stock(number, {"Colour": "Quokkabrown"})
    sync_stock(dealership, images=False)  # the change is written with bulk_update

    title = Vehicle.objects.get(dealership=dealership, easycars_stock_number=number).title
    assert listed_titles(client.get("/vehicles/?q=quokkabrown")) == [title]
    assert listed_titles(client.get(f"/vehicles/?q={number}")) == [title]


def test_bulk_create_bulk_update_and_create_keep_the_column_current(client, listing_page, showroom_dealership):
    first, second = Vehicle.objects.bulk_create(
        [VehicleFactory.build(dealership=showroom_dealership, title=f"Car {n}") for n in (1, 2)]
    )
    VehicleFactory(dealership=showroom_dealership, title="Car 3", badge="Wombat")
    first.description = "Panoramic sunroof"
    Vehicle.objects.bulk_update([first], ["description"])
    Vehicle.objects.filter(pk=second.pk).update(series="Platypus")

    assert listed_titles(client.get("/vehicles/?q=sunroof")) == ["Car 1"]
    assert listed_titles(client.get("/vehicles/?q=PLATYPUS")) == ["Car 2"]
    assert listed_titles(client.get("/vehicles/?q=wombat+car")) == ["Car 3"]


def test_search_matches_letters_outside_ascii_in_any_case(client, listing_page, showroom_dealership):
    with connection.cursor() as cursor:
        cursor.execute("SELECT upper('ë')")
        if cursor.fetchone()[0] != "Ë":
            pytest.skip("this database's collation upper-cases ASCII letters only (e.g. lc_collate 'C')")
    VehicleFactory(dealership=showroom_dealership, title="2019 Citroën C5 Aircross", make="Citroën")
    VehicleFactory(dealership=showroom_dealership, title="2020 Škoda Octavia", description="Günstig")

    assert listed_titles(client.get("/vehicles/?q=citroën")) == ["2019 Citroën C5 Aircross"]
    assert listed_titles(client.get("/vehicles/?q=CITROËN")) == ["2019 Citroën C5 Aircross"]
    assert listed_titles(client.get("/vehicles/?q=škoda")) == ["2020 Škoda Octavia"]
    assert listed_titles(client.get("/vehicles/?q=GÜNSTIG")) == ["2020 Škoda Octavia"]


def test_search_words_can_use_the_trigram_index(showroom_dealership):
    from wagtail_easycars.showroom.filters import VehicleFilterSet

    queryset = VehicleFilterSet({"q": "leather navigation"}, Vehicle.objects.all()).qs
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is small enough to scan
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "wagtail_easycars_vehicle_search_text_trgm" in plan
