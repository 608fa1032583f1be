"""Lead values <-> LeadService payloads, checked against docs/easycars-api.md#leadservice."""

from decimal import Decimal

import pytest

from wagtail_easycars.client.contract import LeadDetail, parse_lead_detail
from wagtail_easycars.sync.leads.mapping import (
    LeadMappingError,
    VehicleFacts,
    build_create_request,
    build_update_request,
    detail_values,
    lead_values,
    vehicle_facts,
)

from ..client.test_client_unit import VENDOR_DETAIL
from ..factories import EasyCarsVehicleFactory, LeadFactory, VehicleFactory

EXTERNAL_ID = "3f2b9c1e-0000-4000-8000-000000000001"


def _values(**overrides):
    values = {
        "status": "new",
        "message": "Is it still available?",
        "vehicle_interest": "buy",
        "finance_status": "",
        "rating": "",
        "name": "Jo Citizen",
        "email": "jo@example.com",
        "phone": "0299990000",
        "mobile": "0420000000",
        "address": "1 Test St",
        "city": "St Marys",
        "state": "NSW",
        "postcode": "2760",
    }
    return values | overrides


def _facts(**overrides):
    facts = {
        "make": "VOLVO",
        "model": "V90",
        "year": 2020,
        "price": Decimal("65000.00"),
        "stock_type": "A",
        "condition": "used",
        "stock_number": "12",
        "public_url": "https://dealer.example/stock/12",
    }
    return VehicleFacts(**(facts | overrides))


def test_create_request_is_the_contract_shape_with_nested_customer():
    payload = build_create_request(_values(rating="warm", finance_status="maybe"), _facts(), external_id=EXTERNAL_ID)
    assert payload.to_payload() == {
        "StockNumber": "12",
        "VehicleMake": "VOLVO",
        "VehicleModel": "V90",
        "VehiclePrice": 65000,
        "VehicleType": 1,
        "VehicleYear": 2020,
        "IsVehicleNew": False,
        "VehicleInterest": 1,
        "Notes": "Is it still available?",
        "VehicleSourcePageURL": "https://dealer.example/stock/12",
        "FinanceStatus": 3,
        "Rating": 2,
        "ExternalID": EXTERNAL_ID,
        "LeadCustomer": {
            "Name": "Jo Citizen",
            "Email": "jo@example.com",
            "Phone": "0299990000",
            "Mobile": "0420000000",
            "Address": "1 Test St",
            "City": "St Marys",
            "State": "NSW",
            "PostCode": "2760",
        },
    }


def test_create_request_never_sends_flat_customer_fields_or_comments():
    payload = build_create_request(_values(), _facts(), external_id=EXTERNAL_ID).to_payload()
    flat = {"CustomerName", "CustomerEmail", "CustomerPhone", "CustomerMobile", "CustomerNo", "Comments"}
    assert not flat & set(payload)


@pytest.mark.parametrize(("word", "number"), [("buy", 1), ("lease", 2), ("sell", 3), ("test_drive", 4), ("service", 5)])
def test_vehicle_interest_follows_the_contract(word, number):
    payload = build_create_request(_values(vehicle_interest=word), _facts(), external_id=EXTERNAL_ID).to_payload()
    assert payload["VehicleInterest"] == number


@pytest.mark.parametrize(("word", "number"), [("cold", 1), ("warm", 2), ("hot", 3)])
def test_rating_runs_cold_to_hot(word, number):
    payload = build_create_request(_values(rating=word), _facts(), external_id=EXTERNAL_ID).to_payload()
    assert payload["Rating"] == number


@pytest.mark.parametrize(("word", "number"), [("yes", 1), ("no", 2), ("maybe", 3)])
def test_finance_status_is_one_to_three(word, number):
    payload = build_create_request(_values(finance_status=word), _facts(), external_id=EXTERNAL_ID).to_payload()
    assert payload["FinanceStatus"] == number


def test_unset_rating_and_finance_are_omitted():
    payload = build_create_request(_values(), _facts(), external_id=EXTERNAL_ID).to_payload()
    assert "Rating" not in payload
    assert "FinanceStatus" not in payload


@pytest.mark.parametrize(("letter", "number"), [("A", 1), ("M", 2), ("B", 3), ("C", 4), ("H", 5), ("T", 6), ("", 1)])
def test_vehicle_type_comes_from_the_stock_type_letter(letter, number):
    payload = build_create_request(_values(), _facts(stock_type=letter), external_id=EXTERNAL_ID).to_payload()
    assert payload["VehicleType"] == number


@pytest.mark.parametrize(
    ("condition", "is_used", "expected"),
    [("new", None, True), ("used", None, False), ("demo", None, False), ("demo", False, True), ("new", True, False)],
)
def test_is_vehicle_new_prefers_easycars_is_used_then_condition(condition, is_used, expected):
    facts = _facts(condition=condition, is_used=is_used)
    assert build_create_request(_values(), facts, external_id=EXTERNAL_ID).to_payload()["IsVehicleNew"] is expected


@pytest.mark.django_db
def test_stock_number_is_sent_only_for_easycars_vehicles():
    manual = vehicle_facts(VehicleFactory(stock_type="M", condition="new", easycars_stock_number="77"))
    assert manual.stock_number is None
    synced = vehicle_facts(EasyCarsVehicleFactory(easycars_stock_number="1234", easycars_raw_data={"IsUsed": True}))
    assert synced.stock_number == "1234"
    assert synced.is_used is True


@pytest.mark.django_db
def test_special_price_is_the_price_the_customer_saw():
    facts = vehicle_facts(VehicleFactory(price=Decimal("30000"), special_price=Decimal("27990")))
    assert facts.price == Decimal("27990")


def test_lead_without_vehicle_is_refused_with_a_reason():
    with pytest.raises(LeadMappingError, match="link the lead to a vehicle"):
        build_create_request(_values(), None, external_id=EXTERNAL_ID)


def test_vehicle_without_year_is_refused_with_a_reason():
    with pytest.raises(LeadMappingError, match="year"):
        build_create_request(_values(), _facts(year=None), external_id=EXTERNAL_ID)


def test_customer_needs_name_and_email_or_a_customer_number():
    with pytest.raises(LeadMappingError, match="email"):
        build_create_request(_values(email=""), _facts(), external_id=EXTERNAL_ID)
    payload = build_create_request(_values(email=""), _facts(), external_id=EXTERNAL_ID, customer_no="00004")
    assert payload.to_payload()["LeadCustomer"] == {"CustomerNo": "00004"}


def test_overlong_url_is_left_out_rather_than_refused():
    facts = _facts(public_url="https://dealer.example/" + "x" * 400)
    assert "VehicleSourcePageURL" not in build_create_request(_values(), facts, external_id=EXTERNAL_ID).to_payload()


@pytest.mark.parametrize(
    ("status", "number"), [("new", 10), ("in_progress", 30), ("won", 50), ("lost", 60), ("deleted", 90)]
)
def test_update_maps_status_to_lead_status(status, number):
    plan = build_update_request(
        "000017", _values(status="in_progress" if status == "new" else "new"), _values(status=status)
    )
    assert plan.request.to_payload() == {"LeadNumber": "000017", "LeadStatus": number}


def test_update_sends_only_changed_fields():
    plan = build_update_request("000017", _values(), _values(rating="hot", message="Call after 5"))
    assert plan.request.to_payload() == {"LeadNumber": "000017", "Rating": 3, "Notes": "Call after 5"}
    assert plan.values["rating"] == "hot"
    assert not plan.skipped


def test_update_never_sends_create_only_keys_or_nulls():
    payload = build_update_request("000017", _values(), _values(status="won", phone="0211112222")).request.to_payload()
    assert set(payload) <= {"LeadNumber", "LeadStatus", "LeadCustomer"}
    assert None not in payload.values()


def test_customer_change_sends_name_and_email_with_the_change():
    plan = build_update_request("000017", _values(), _values(mobile="0433333333"))
    assert plan.request.to_payload()["LeadCustomer"] == {
        "Name": "Jo Citizen",
        "Email": "jo@example.com",
        "Mobile": "0433333333",
    }


def test_nothing_changed_means_no_request():
    assert build_update_request("000017", _values(), _values()).request is None


def test_deleted_lead_is_never_reactivated():
    plan = build_update_request("000017", _values(status="deleted"), _values(status="in_progress", rating="hot"))
    assert plan.request.to_payload() == {"LeadNumber": "000017", "Rating": 3}
    assert plan.values["status"] == "deleted"
    assert "cannot" in plan.skipped[0] or "not allow" in plan.skipped[0]


def test_clearing_an_enum_is_reported_not_sent_as_null():
    plan = build_update_request("000017", _values(rating="hot"), _values(rating=""))
    assert plan.request is None
    assert plan.values["rating"] == "hot"
    assert plan.skipped


def test_clearing_notes_sends_an_empty_string():
    plan = build_update_request("000017", _values(), _values(message=""))
    assert plan.request.to_payload() == {"LeadNumber": "000017", "Notes": ""}


def test_detail_values_read_the_flat_customer_keys_and_enum_words():
    values = detail_values(parse_lead_detail(VENDOR_DETAIL))
    assert values == {
        "name": "EasyCars Customer",
        "email": "EasyCars.Customer6@EasyCarsCustomer.com",
        "phone": "",
        "mobile": "0420000000",
        "address": "Test Adress Line",
        "city": "St Marys",
        "state": "NSW",
        "postcode": "2760",
        "vehicle_interest": "sell",
        "finance_status": "no",
        "rating": "warm",
        "easycars_customer_no": "00004",
    }


def test_detail_never_invents_a_status_or_clears_notes_on_null():
    values = detail_values(parse_lead_detail(VENDOR_DETAIL))
    assert "status" not in values
    assert "message" not in values
    assert detail_values(parse_lead_detail({**VENDOR_DETAIL, "Notes": "Wants a test drive"}))["message"] == (
        "Wants a test drive"
    )


def test_unknown_enum_numbers_from_easycars_are_ignored():
    detail = parse_lead_detail({**VENDOR_DETAIL, "Rating": 7, "VehicleInterest": None})
    values = detail_values(detail)
    assert "rating" not in values
    assert "vehicle_interest" not in values
    assert isinstance(detail, LeadDetail)


@pytest.mark.django_db
def test_lead_values_snapshot_the_synced_fields():
    lead = LeadFactory.build(rating="hot", finance_status="yes", vehicle_interest="test_drive")
    values = lead_values(lead)
    assert values["rating"] == "hot"
    assert values["vehicle_interest"] == "test_drive"
    assert "sync_state" not in values
    assert "external_id" not in values
