"""Sync history: the dealership's runs, filtered, sorted, paginated and exported; a run in full."""

import csv
import datetime as dt
import io
import re
from html import unescape

import pytest

from wagtail_easycars.models import FieldChange, SyncLog

from ..easycars_admin_support import SYNC_PERMISSIONS, assert_no_secrets
from ..factories import CredentialFactory, DealershipFactory, EasyCarsVehicleFactory, SyncLogFactory

pytestmark = pytest.mark.django_db

URL = "/admin/easycars/history/"


def run(dealership, day, **kwargs):
    started = dt.datetime(2026, 2, day, 3, 0, tzinfo=dt.UTC)
    kwargs.setdefault("completed_at", started + dt.timedelta(seconds=day))
    kwargs.setdefault("duration_ms", day * 1000)
    return SyncLogFactory(dealership=dealership, started_at=started, **kwargs)


def listed_ids(response):
    return [int(pk) for pk in re.findall(r'href="/admin/easycars/history/(\d+)/"', response.content.decode())]


@pytest.fixture
def dealership():
    return CredentialFactory().dealership


def test_history_lists_only_the_dealerships_runs_newest_first(admin_of, dealership):
    other = run(DealershipFactory(), 9)
    mine = [run(dealership, day) for day in (1, 2, 3)]
    ids = listed_ids(admin_of(dealership).get(URL))
    assert ids == [log.pk for log in reversed(mine)]
    assert other.pk not in ids


def test_history_filters_by_type(admin_of, dealership):
    stock = run(dealership, 1)
    run(dealership, 2, sync_type=SyncLog.SyncType.LEAD, direction=SyncLog.Direction.OUTBOUND)
    assert listed_ids(admin_of(dealership).get(URL, {"sync_type": "stock"})) == [stock.pk]


def test_history_filters_by_direction(admin_of, dealership):
    run(dealership, 1)
    outbound = run(dealership, 2, sync_type=SyncLog.SyncType.LEAD, direction=SyncLog.Direction.OUTBOUND)
    assert listed_ids(admin_of(dealership).get(URL, {"direction": "outbound"})) == [outbound.pk]


def test_history_filters_by_status(admin_of, dealership):
    run(dealership, 1)
    failed = run(dealership, 2, status=SyncLog.Status.FAILED)
    assert listed_ids(admin_of(dealership).get(URL, {"status": "failed"})) == [failed.pk]


def test_history_filters_by_date_range(admin_of, dealership):
    run(dealership, 1)
    middle = run(dealership, 5)
    run(dealership, 9)
    response = admin_of(dealership).get(URL, {"started_at_from": "2026-02-04", "started_at_to": "2026-02-06"})
    assert listed_ids(response) == [middle.pk]


def test_history_sorts_by_duration(admin_of, dealership):
    slow = run(dealership, 1, duration_ms=90000)
    fast = run(dealership, 2, duration_ms=100)
    assert listed_ids(admin_of(dealership).get(URL, {"ordering": "duration_ms"})) == [fast.pk, slow.pk]


def test_history_is_paginated(admin_of, dealership):
    for day in range(1, 28):
        run(dealership, day)
    client = admin_of(dealership)
    assert (len(listed_ids(client.get(URL))), len(listed_ids(client.get(URL, {"p": 2})))) == (25, 2)


def test_history_results_fragment_serves_the_filtered_listing(admin_of, dealership):
    failed = run(dealership, 2, status=SyncLog.Status.FAILED)
    run(dealership, 3)
    response = admin_of(dealership).get(URL + "results/", {"status": "failed"})
    assert listed_ids(response) == [failed.pk]


def test_csv_export_contains_the_filtered_runs(admin_of, dealership):
    run(dealership, 1, records_created=3)
    failed = run(dealership, 2, status=SyncLog.Status.FAILED, error_message="EasyCars was down")
    response = admin_of(dealership).get(URL, {"status": "failed", "export": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(row["Run"], row["Status"], row["Error message"]) for row in rows] == [
        (str(failed.pk), "Failed", "EasyCars was down")
    ]


def test_csv_export_is_named_after_the_dealership(admin_of, dealership):
    response = admin_of(dealership).get(URL, {"export": "csv"})
    assert f"easycars-sync-history-{dealership.slug}.csv" in response["Content-Disposition"]


def test_detail_shows_counts_error_and_failures(admin_of, dealership):
    log = run(
        dealership,
        3,
        status=SyncLog.Status.FAILED,
        records_created=12,
        images_failed=2,
        error_message="EasyCars answered with Code 7",
        error_details="EasyCarsApiError: bad yard",
        item_failures=[
            {"kind": "item", "ref": "S123", "message": "Price is not a number"},
            {"kind": "image", "ref": "https://img.example/1.jpg", "message": "Not an image"},
        ],
        warnings=["Yard 9 is unknown"],
    )
    html = admin_of(dealership).get(f"{URL}{log.pk}/").content.decode()
    for text in (
        "EasyCars answered with Code 7",
        "EasyCarsApiError: bad yard",
        "Price is not a number",
        "Not an image",
        "Yard 9 is unknown",
        "<dd>12</dd>",
    ):
        assert text in html


def test_detail_shows_the_payload_with_secrets_redacted(admin_of, dealership):
    log = run(
        dealership,
        3,
        request_payload={"AccountNumber": "EC000001", "AccountSecret": "00000000-0000-0000-0000-000000000003"},
        response_summary={"Code": 0, "items": 20},
    )
    response = admin_of(dealership).get(f"{URL}{log.pk}/")
    html = unescape(response.content.decode())
    assert '"AccountSecret": "***"' in html
    assert '"items": 20' in html


def test_detail_never_shows_a_secret(admin_of, dealership):
    log = run(dealership, 3, request_payload={"ClientSecret": "00000000-0000-0000-0000-000000000002"})
    assert_no_secrets(admin_of(dealership).get(f"{URL}{log.pk}/"), "EC000001")


def test_detail_links_the_vehicles_the_run_changed(admin_of, dealership):
    log = run(dealership, 3)
    vehicle = EasyCarsVehicleFactory(dealership=dealership, title="2020 Mazda CX-5 Maxx")
    FieldChange.objects.create(vehicle=vehicle, field="price", old_value=1, new_value=2, sync_log=log)
    client = admin_of(dealership, permissions=(*SYNC_PERMISSIONS, "wagtail_easycars.change_vehicle"))
    html = client.get(f"{URL}{log.pk}/").content.decode()
    touched = html.split("data-easycars-touched", 1)[1].split("</ul>", 1)[0]
    assert "2020 Mazda CX-5 Maxx" in touched
    assert f"/{vehicle.pk}/" in touched


def test_detail_of_another_dealerships_run_is_not_found(admin_of, dealership):
    other = run(DealershipFactory(), 3)
    assert admin_of(dealership).get(f"{URL}{other.pk}/").status_code == 404


def test_history_needs_the_view_permission(admin_of, dealership):
    client = admin_of(dealership, permissions=("wagtailadmin.access_admin",))
    assert client.get(URL).status_code == 302


def test_history_offers_the_csv_download_of_the_current_filter(admin_of, dealership):
    html = admin_of(dealership).get(URL, {"status": "failed"}).content.decode()
    assert "status=failed&amp;export=csv" in html
