from decimal import Decimal

import pytest

from wagtail_easycars.models import FieldChange, PotentialDuplicate, SyncLog, Vehicle, VehicleConflict
from wagtail_easycars.sync import runs
from wagtail_easycars.sync.stock import conflicts
from wagtail_easycars.sync.stock.sync import sync_stock

from ..factories import CredentialFactory, DealershipFactory, VehicleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dealership(sandbox_settings):
    return CredentialFactory().dealership


def sync(dealership, **kwargs):
    kwargs.setdefault("images", False)
    return sync_stock(dealership, **kwargs)


def vehicle(dealership, number):
    return Vehicle.objects.get(dealership=dealership, easycars_stock_number=number)


def price_conflict(dealership, sandbox):
    """An editor set a synced vehicle's price to 999, then EasyCars changed it to 20000 and a sync ran."""
    sync(dealership)
    number = sandbox.control.stock()[0]["StockNumber"]
    car = vehicle(dealership, number)
    car.price = Decimal("999")
    car.save()
    sandbox.control.edit_stock(number, {"Price": 20000})
    sync(dealership)
    return car


def test_first_import_creates_every_vehicle(dealership, sandbox):
    feed = sandbox.control.stock()
    log = sync(dealership)
    assert log.status in (SyncLog.Status.SUCCESS, SyncLog.Status.WARNING), log.item_failures
    assert log.records_created == len(feed) == log.records_total == log.records_processed
    first = feed[0]
    stored = vehicle(dealership, first["StockNumber"])
    assert stored.make == first["Make"].strip()
    assert stored.data_source == "easycars"
    assert stored.easycars_content_hash
    assert log.request_payload["AccountSecret"] == "***"
    assert "00000000-0000-0000-0000-000000000003" not in str(log.request_payload)


def test_resync_without_changes_writes_nothing(dealership, sandbox, django_assert_max_num_queries):
    sync(dealership)
    before = dict(Vehicle.objects.values_list("pk", "updated_at"))
    log = sync(dealership)
    assert log.records_unchanged == len(before)
    assert log.records_updated == log.records_created == 0
    assert dict(Vehicle.objects.values_list("pk", "updated_at")) == before
    assert not FieldChange.objects.exists()


def test_no_change_resync_issues_a_constant_number_of_queries(dealership, sandbox, django_assert_max_num_queries):
    sync(dealership)
    sandbox.control.reset(stock=60, seed=1, yards=3, accounts=2)
    sync(dealership)
    with django_assert_max_num_queries(25):
        sync(dealership)


def test_price_change_is_recorded_in_field_history(dealership, sandbox):
    sync(dealership)
    number = sandbox.control.stock()[0]["StockNumber"]
    sandbox.control.edit_stock(number, {"Price": 12345})
    log = sync(dealership)
    assert log.records_updated == 1
    assert vehicle(dealership, number).price == Decimal("12345.00")
    change = FieldChange.objects.get(vehicle__easycars_stock_number=number, field="price")
    assert change.new_value == "12345.00"
    assert change.sync_log == log


def test_vehicle_missing_once_is_kept_and_missing_twice_is_delisted(dealership, sandbox):
    sync(dealership)
    number = sandbox.control.stock()[0]["StockNumber"]
    sandbox.control.remove_stock(number)
    sync(dealership)
    assert vehicle(dealership, number).status == Vehicle.Status.AVAILABLE
    assert vehicle(dealership, number).missing_pull_count == 1
    log = sync(dealership)
    assert log.records_delisted == 1
    assert vehicle(dealership, number).status == Vehicle.Status.UNLISTED
    assert Vehicle.objects.filter(dealership=dealership).count() == 20  # never deleted


def test_delisted_vehicle_that_reappears_is_relisted(dealership, sandbox, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "DELIST_AFTER_MISSING_PULLS": 1}
    sync(dealership)
    item = sandbox.control.stock()[0]
    sandbox.control.remove_stock(item["StockNumber"])
    sync(dealership)
    assert vehicle(dealership, item["StockNumber"]).status == Vehicle.Status.UNLISTED
    sandbox.control.add_stock(item)
    log = sync(dealership)
    assert log.records_relisted == 1
    relisted = vehicle(dealership, item["StockNumber"])
    assert relisted.status == Vehicle.Status.AVAILABLE
    assert relisted.missing_pull_count == 0


def test_vehicle_back_after_one_missing_pull_restarts_the_count(dealership, sandbox):
    sync(dealership)
    item = sandbox.control.stock()[0]
    sandbox.control.remove_stock(item["StockNumber"])
    sync(dealership)
    sandbox.control.add_stock(item)
    sync(dealership)
    assert vehicle(dealership, item["StockNumber"]).missing_pull_count == 0


def test_mass_disappearance_delists_nothing_and_says_so(dealership, sandbox):
    sync(dealership)
    for item in sandbox.control.stock()[:15]:
        sandbox.control.remove_stock(item["StockNumber"])
    for _ in range(3):
        log = sync(dealership)
    assert log.records_delisted == 0
    assert log.status == SyncLog.Status.WARNING
    assert any("held back" in warning for warning in log.warnings)
    assert not Vehicle.objects.filter(status=Vehicle.Status.UNLISTED).exists()


def test_pull_with_an_easycars_warning_delists_nothing(dealership, sandbox, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "DELIST_AFTER_MISSING_PULLS": 1}
    sync(dealership)
    sandbox.control.remove_stock(sandbox.control.stock()[0]["StockNumber"])
    sandbox.control.add_fault("GetAdvertisementStocks", "warning", message="Partial list", count=1)
    log = sync(dealership)
    assert log.records_delisted == 0
    assert any("skipped" in warning for warning in log.warnings)


@pytest.mark.parametrize(("kind", "params"), [("http_error", {"status": 500}), ("malformed", {}), ("drop", {})])
def test_easycars_fault_fails_the_run_and_changes_nothing(dealership, sandbox, kind, params):
    sync(dealership)
    sandbox.control.remove_stock(sandbox.control.stock()[0]["StockNumber"])
    sandbox.control.edit_stock(sandbox.control.stock()[0]["StockNumber"], {"Price": 1})
    before = list(Vehicle.objects.order_by("pk").values())
    sandbox.control.add_fault("GetAdvertisementStocks", kind, **params)
    log = sync(dealership)
    assert log.status == SyncLog.Status.FAILED
    assert log.error_message
    assert list(Vehicle.objects.order_by("pk").values()) == before
    assert not runs.running_log(dealership, "stock")


def test_bad_items_fail_alone(dealership, sandbox):
    sandbox.control.add_stock({"StockNumber": "BAD1", "Price": "a lot", "YearGroup": -4, "VIN": "<script>"})
    log = sync(dealership)
    assert log.status == SyncLog.Status.WARNING
    bad = vehicle(dealership, "BAD1")
    assert bad.price is None
    assert bad.year is None
    assert bad.vin == ""
    assert any(f["kind"] == "field" and f["ref"] == "BAD1" for f in log.item_failures)
    assert log.records_created == 21


def test_yard_filter_limits_the_pull(dealership, sandbox):
    credential = dealership.easycars_credential
    credential.yard_code = "200"
    credential.save()
    log = sync(dealership)
    expected = {item["StockNumber"] for item in sandbox.control.stock(yard="200")}
    assert 0 < log.records_created == len(expected) < 20
    assert set(Vehicle.objects.values_list("easycars_stock_number", flat=True)) == expected


def test_sync_of_one_dealership_never_touches_another(dealership, sandbox):
    other = DealershipFactory()
    theirs = VehicleFactory(dealership=other, data_source="easycars", easycars_stock_number="1001", price=1)
    sync(dealership)
    sync(dealership)
    theirs.refresh_from_db()
    assert theirs.price == Decimal("1.00")
    assert theirs.status == Vehicle.Status.AVAILABLE
    assert Vehicle.objects.filter(dealership=dealership).count() == 20


def test_second_trigger_joins_the_running_sync(dealership, sandbox):
    log, started = runs.begin_run(dealership, "stock", "inbound")
    joined = sync(dealership)
    assert started
    assert joined == log
    assert not Vehicle.objects.exists()


def test_sync_without_credentials_fails_clearly(sandbox_settings):
    log = sync(DealershipFactory())
    assert log.status == SyncLog.Status.FAILED
    assert "credentials" in log.error_message


def test_editor_change_locks_the_field_and_sync_records_a_conflict(dealership, sandbox):
    sync(dealership)
    number = sandbox.control.stock()[0]["StockNumber"]
    car = vehicle(dealership, number)
    car.title = "Lovingly kept family car"
    car.save()
    car.refresh_from_db()
    assert car.locked_fields == ["title"]
    sandbox.control.edit_stock(number, {"Make": "SKODA"})
    sync(dealership)
    car.refresh_from_db()
    assert car.title == "Lovingly kept family car"
    assert car.make == "SKODA"
    conflict = VehicleConflict.objects.get(vehicle=car, field="title")
    assert "SKODA" in conflict.easycars_value
    assert conflict.local_value == "Lovingly kept family car"


def test_conflict_closes_when_easycars_sends_the_editors_value(dealership, sandbox):
    car = price_conflict(dealership, sandbox)
    conflict = VehicleConflict.objects.get(vehicle=car, field="price", resolved_at=None)
    sandbox.control.edit_stock(car.easycars_stock_number, {"Price": 999})  # EasyCars took the correction
    log = sync(dealership)
    conflict.refresh_from_db()
    assert conflict.resolution == VehicleConflict.Resolution.AGREED
    assert conflict.resolved_at is not None
    assert conflict.resolved_by is None
    assert conflict.sync_log == log
    car.refresh_from_db()
    assert car.price == Decimal("999.00")
    assert "price" in car.locked_fields  # the editor's lock stays until an editor lifts it


def test_conflict_closes_when_the_unlocked_field_takes_the_easycars_value(dealership, sandbox):
    car = price_conflict(dealership, sandbox)
    conflicts.unlock_fields(car, ["price"])
    sync(dealership)
    car.refresh_from_db()
    assert car.price == Decimal("20000.00")
    assert VehicleConflict.objects.get(vehicle=car, field="price").resolution == VehicleConflict.Resolution.AGREED


def test_an_editor_cannot_choose_the_sync_only_resolution(dealership, sandbox, admin_user):
    car = price_conflict(dealership, sandbox)
    conflict = VehicleConflict.objects.get(vehicle=car, field="price")
    with pytest.raises(conflicts.ResolutionError):
        conflicts.resolve_conflict(conflict, VehicleConflict.Resolution.AGREED, admin_user)
    conflict.refresh_from_db()
    assert conflict.resolved_at is None


def test_accepting_the_easycars_value_applies_it_and_unlocks(dealership, sandbox, admin_user):
    car = price_conflict(dealership, sandbox)
    conflict = VehicleConflict.objects.get(vehicle=car, field="price")
    conflicts.resolve_conflict(conflict, "accept_easycars", admin_user)
    car.refresh_from_db()
    assert car.price == Decimal("20000.00")
    assert "price" not in car.locked_fields
    assert FieldChange.objects.filter(vehicle=car, field="price", source="conflict", user=admin_user).exists()
    sandbox.control.edit_stock(car.easycars_stock_number, {"Price": 21000})
    sync(dealership)
    car.refresh_from_db()
    assert car.price == Decimal("21000.00")


def test_keeping_the_local_value_keeps_the_lock(dealership, sandbox, admin_user):
    car = price_conflict(dealership, sandbox)
    conflict = VehicleConflict.objects.get(vehicle=car, field="price")
    conflicts.resolve_conflict(conflict, "keep_local", admin_user)
    conflict.refresh_from_db()
    car.refresh_from_db()
    assert conflict.resolved_by == admin_user
    assert car.price == Decimal("999.00")
    assert "price" in car.locked_fields


def test_manual_vehicle_sharing_a_vin_is_a_potential_duplicate(dealership, sandbox, admin_user):
    item = next(i for i in sandbox.control.stock() if i["VIN"])
    manual = VehicleFactory(dealership=dealership, vin=item["VIN"])
    sync(dealership)
    sync(dealership)
    dup = PotentialDuplicate.objects.get()
    assert dup.manual_vehicle == manual
    assert dup.reason == "vin"
    conflicts.resolve_duplicate(dup, "merged", admin_user)
    dup.refresh_from_db()
    manual.refresh_from_db()
    assert dup.resolution == "merged"
    assert manual.status == Vehicle.Status.UNLISTED


def test_manual_vehicle_sharing_a_stock_number_is_reported_not_overwritten(dealership, sandbox):
    number = sandbox.control.stock()[0]["StockNumber"]
    manual = VehicleFactory(dealership=dealership, easycars_stock_number=number, price=5)
    log = sync(dealership)
    assert log.records_created == 20
    manual.refresh_from_db()
    assert manual.price == Decimal("5.00")
    assert PotentialDuplicate.objects.get().reason == "stock_number"


def test_vehicle_restocked_under_a_new_number_is_matched_by_vin(dealership, sandbox):
    sync(dealership)
    item = next(i for i in sandbox.control.stock() if i["VIN"])
    original = vehicle(dealership, item["StockNumber"])
    sandbox.control.remove_stock(item["StockNumber"])
    sandbox.control.add_stock({**item, "StockNumber": "R" + item["StockNumber"]})
    log = sync(dealership)
    assert log.records_created == 0
    original.refresh_from_db()
    assert original.easycars_stock_number == "R" + item["StockNumber"]


def test_synced_vehicles_are_found_by_the_search_index(dealership, sandbox, django_capture_on_commit_callbacks):
    from wagtail.search.backends import get_search_backend

    def search(text):
        return [v.easycars_stock_number for v in get_search_backend().search(text, Vehicle)]

    item = sandbox.control.stock()[0]
    sandbox.control.edit_stock(item["StockNumber"], {"Model": "ZEBRAFINCH"})
    with django_capture_on_commit_callbacks(execute=True):
        sync(dealership)
    assert search("ZEBRAFINCH") == [item["StockNumber"]]
    sandbox.control.edit_stock(item["StockNumber"], {"Model": "KINGFISHER"})
    with django_capture_on_commit_callbacks(execute=True):
        sync(dealership)
    assert search("KINGFISHER") == [item["StockNumber"]]
    assert search("ZEBRAFINCH") == []


def test_a_vehicle_the_database_refuses_fails_alone(dealership, sandbox, monkeypatch):
    from django.db import DatabaseError

    from wagtail_easycars.sync.stock import insert

    refused = sandbox.control.stock()[3]["StockNumber"]
    original = insert.insert_vehicles

    def insert_vehicles(dealership, creates, now):
        if any(m.stock_number == refused for m in creates):
            raise DatabaseError("value out of range")
        return original(dealership, creates, now)

    monkeypatch.setattr(insert, "insert_vehicles", insert_vehicles)
    log = sync(dealership)
    assert log.records_created == 19
    assert log.records_failed == 1
    assert [f["ref"] for f in log.item_failures if f["kind"] == "item"] == [refused]
    assert not Vehicle.objects.filter(easycars_stock_number=refused).exists()


def test_saving_an_easycars_vehicle_without_changes_locks_nothing(dealership, sandbox):
    sync(dealership)
    car = Vehicle.objects.first()
    car.save()
    car.refresh_from_db()
    assert car.locked_fields == []
    assert not FieldChange.objects.exists()


def test_a_user_of_another_dealership_cannot_resolve_a_conflict(dealership, sandbox):
    from django.core.exceptions import PermissionDenied

    from ..factories import MembershipFactory

    car = price_conflict(dealership, sandbox)
    outsider = MembershipFactory().user
    with pytest.raises(PermissionDenied):
        conflicts.resolve_conflict(VehicleConflict.objects.get(), "accept_easycars", outsider)
    car.refresh_from_db()
    assert car.price == Decimal("999.00")
