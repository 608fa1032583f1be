"""Client edge cases with respx (no sandbox): exact requests, parsing quirks, token expiry, redaction."""

import base64
import datetime as dt
import json
import time
from decimal import Decimal
from email.utils import format_datetime

import httpx
import pytest
import respx
from django.core.cache import caches

from wagtail_easycars.client.contract import (
    CreateLeadRequest,
    EasyCarsAccount,
    ExtraType,
    LeadCustomer,
    LeadStatus,
    PaymentMethod,
    Rating,
    ResponseCode,
    UpdateLeadRequest,
    VehicleInterest,
    VehicleType,
    parse_lead_detail,
)
from wagtail_easycars.client.errors import (
    EasyCarsApiError,
    EasyCarsAuthenticationError,
    EasyCarsMalformedResponse,
    EasyCarsOutcomeUnknown,
)
from wagtail_easycars.client.http import EasyCarsClient, redact
from wagtail_easycars.client.redaction import redact_text
from wagtail_easycars.client.tokens import TokenCache, token_expiry

BASE = "https://testmy.easycars.com.au/TestECService"
ACCOUNT = EasyCarsAccount(
    environment="test",
    client_id="CLIENT-ID",
    client_secret="client-secret-value",
    account_number="EC000001",
    account_secret="account-secret-value",
    label="demo-motors",
)
OK = {"Code": 0, "ErrorMessage": None}


def make_token(lifetime=600):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"ClientID": "X", "nbf": now, "exp": now + lifetime, "iat": now}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.sig"


def lead():
    return CreateLeadRequest(
        vehicle_make="MAZDA",
        vehicle_model="CX-5",
        vehicle_type=VehicleType.CAR,
        vehicle_year=2022,
        is_vehicle_new=True,
        vehicle_interest=VehicleInterest.TEST_DRIVE,
        customer=LeadCustomer(name="Sam", email="sam@example.com"),
    )


@pytest.fixture
def mock():
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.post("/StockService/RequestToken").respond(json={"Token": make_token(), **OK})
        mock.post("/LeadService/RequestToken").respond(json={"Token": make_token(), **OK})
        yield mock


@pytest.fixture
def client():
    with EasyCarsClient(ACCOUNT) as client:
        yield client


# Requests on the wire --------------------------------------------------------------------------------


def test_request_token_sends_the_client_pair_as_query_with_an_empty_body(mock, client):
    mock.post("/StockService/GetAdvertisementStocks").respond(json={"StockList": [], **OK})

    client.get_advertisement_stocks()

    request = mock.routes[0].calls.last.request
    assert request.url.params["ClientID"] == "CLIENT-ID"
    assert request.url.params["ClientSecret"] == "client-secret-value"
    assert request.content == b""


def test_data_calls_send_bearer_token_and_the_account_pair(mock, client):
    route = mock.post("/StockService/GetAdvertisementStocks").respond(json={"StockList": [], **OK})

    client.get_advertisement_stocks(yard_code="100")

    request = route.calls.last.request
    assert request.headers["Authorization"].startswith("Bearer eyJ")
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "AccountNumber": "EC000001",
        "AccountSecret": "account-secret-value",
        "YardCode": "100",
    }


def test_create_lead_payload_follows_the_contract():
    payload = CreateLeadRequest(
        **{**vars(lead()), "vehicle_price": Decimal("45990.50"), "rating": 3, "external_id": "web-1"}
    ).to_payload()

    assert payload["VehiclePrice"] == 45990.5
    assert payload["Rating"] == 3
    assert payload["LeadCustomer"] == {"Name": "Sam", "Email": "sam@example.com"}
    assert {"Notes", "StockNumber", "FinanceStatus", "VehicleSourcePageURL"}.isdisjoint(payload)
    assert payload["IsVehicleNew"] is True


def test_update_lead_payload_holds_only_what_was_set():
    payload = UpdateLeadRequest("000017", lead_status=LeadStatus.LOST, rating=Rating.COLD, notes="").to_payload()

    assert payload == {"LeadNumber": "000017", "LeadStatus": 60, "Rating": 1, "Notes": ""}


def test_out_of_range_enum_is_refused_before_sending():
    with pytest.raises(ValueError, match="6"):
        CreateLeadRequest(**{**vars(lead()), "vehicle_interest": 6})


def test_enums_carry_the_vendor_numbers():
    assert {code.name: int(code) for code in ResponseCode} == {
        "SUCCESS": 0, "AUTHENTICATION_FAIL": 1, "WARNING": 5, "FAILED": 7, "SYSTEM_ERROR": 9,
    }  # fmt: skip
    assert [int(method) for method in PaymentMethod] == [1, 2, 3, 4, 5, 6, 9]
    assert [int(extra) for extra in ExtraType] == [1, 4, 5, 6, 7, 8, 9]


def test_account_repr_hides_all_four_credential_values():
    shown = repr(ACCOUNT)
    for value in ("secret-value", "CLIENT-ID", "EC000001"):
        assert value not in shown
    assert "demo-motors" in shown


def test_refusal_of_an_unlabelled_account_names_it_by_its_last_four_digits():
    account = EasyCarsAccount(**{**vars(ACCOUNT), "label": ""})
    with respx.mock(base_url=BASE) as mock, EasyCarsClient(account) as client:
        mock.post("/StockService/RequestToken").respond(json={"Code": 1, "ErrorMessage": "bad", "Token": None})
        with pytest.raises(EasyCarsAuthenticationError) as caught:
            client.get_advertisement_stocks()
    assert "EC000001" not in str(caught.value)
    assert "…0001" in str(caught.value)


def test_search_contacts_needs_a_filter(client):
    with pytest.raises(ValueError, match="at least one"):
        client.search_contacts()


# Retries that are and are not safe -----------------------------------------------------------------


def test_create_lead_is_retried_after_a_connect_error(mock, client):
    route = mock.post("/LeadService/CreateLead")
    route.side_effect = [
        httpx.ConnectError("refused"),
        httpx.Response(200, json={"LeadNumber": "000001", "CustomerNo": "00001", **OK}),
    ]

    assert client.create_lead(lead()).lead_number == "000001"
    assert route.call_count == 2


def test_create_lead_read_timeout_is_outcome_unknown(mock, client):
    route = mock.post("/LeadService/CreateLead").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(EasyCarsOutcomeUnknown, match="checked before being sent again"):
        client.create_lead(lead())

    assert route.call_count == 1


def test_retry_after_as_an_http_date_is_honoured(mock, client):
    when = format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2), usegmt=True)
    route = mock.post("/StockService/GetAdvertisementStocks")
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": when}),
        httpx.Response(200, json={"StockList": [], **OK}),
    ]

    started = time.monotonic()
    client.get_advertisement_stocks()

    assert time.monotonic() - started >= 0.5
    assert route.call_count == 2


# Answers that break the contract -------------------------------------------------------------------------


def test_success_without_stock_list_is_malformed_and_not_retried(mock, client):
    route = mock.post("/StockService/GetAdvertisementStocks").respond(json={"Stocks": [], **OK})

    with pytest.raises(EasyCarsMalformedResponse, match="StockList"):
        client.get_advertisement_stocks()

    assert route.call_count == 1


def test_stock_entries_must_be_objects(mock, client):
    mock.post("/StockService/GetAdvertisementStocks").respond(json={"StockList": ["x"], **OK})

    with pytest.raises(EasyCarsMalformedResponse):
        client.get_advertisement_stocks()


def test_stock_items_are_returned_raw_with_unknown_keys(mock, client):
    item = {"StockNumber": "12", "Price": None, "Brand New Key": 1}
    mock.post("/StockService/GetAdvertisementStocks").respond(json={"StockList": [item], "Extra": 1, **OK})

    assert client.get_advertisement_stocks().items == [item]


def test_create_lead_without_lead_number_is_outcome_unknown(mock, client):
    # Code 0: EasyCars made the lead; only its number is missing, so it must not be sent again blindly.
    route = mock.post("/LeadService/CreateLead").respond(json={"CustomerNo": "00001", **OK})

    with pytest.raises(EasyCarsOutcomeUnknown, match="LeadNumber"):
        client.create_lead(lead())

    assert route.call_count == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_create_lead_answered_with_a_failure_status_is_outcome_unknown(mock, client, status):
    route = mock.post("/LeadService/CreateLead").respond(status, headers={"Retry-After": "0"})

    with pytest.raises(EasyCarsOutcomeUnknown, match=f"HTTP {status}"):
        client.create_lead(lead())

    assert route.call_count == 1


def test_undocumented_code_is_an_api_error(mock, client):
    mock.post("/StockService/GetAdvertisementStocks").respond(json={"Code": 3, "ErrorMessage": "Odd"})

    with pytest.raises(EasyCarsApiError, match="undocumented Code 3"):
        client.get_advertisement_stocks()


def test_html_404_points_at_the_base_url_setting(mock, client):
    mock.post("/StockService/GetAdvertisementStocks").respond(404, text="<html>Not found</html>")

    with pytest.raises(EasyCarsApiError, match="BASE_URLS"):
        client.get_advertisement_stocks()


def test_token_without_token_field_is_malformed(mock, client):
    mock.post("/StockService/RequestToken").respond(json=OK)

    with pytest.raises(EasyCarsMalformedResponse):
        client.get_advertisement_stocks()


# Parsing GetLeadDetail ----------------------------------------------------------------------------------


VENDOR_DETAIL = {
    "LeadNumber": "000038", "StockNumber": None, "VehicleMake": "Toyota", "VehicleModel": "Corolla",
    "VehiclePrice": 25000.0000, "VehicleType": 1, "VehicleYear": 2018, "IsVehicleNew": True,
    "VehicleInterest": 3, "Notes": None, "VehicleSourcePageURL": "", "FinanceStatus": 2, "Rating": 2,
    "ExternalID": None, "CreatedDateTime": "28/11/2024 10:42:12",
    "CustomerNo": "00004", "CustomerName": "EasyCars Customer",
    "CustomerEmail": "EasyCars.Customer6@EasyCarsCustomer.com", "CustomerAddress": "Test Adress Line",
    "CustomerCity": "St Marys", "CustomerState": "NSW", "CustomerPostCode": "2760",
    "CustomerFax": "", "CustomerPhone": "", "CustomerMobile": "0420000000",
    "Code": 0, "ErrorMessage": None,
}  # fmt: skip


def test_vendor_lead_detail_example_parses():
    detail = parse_lead_detail(VENDOR_DETAIL)

    assert detail.lead_number == "000038"
    assert detail.customer_no == "00004"
    assert detail.stock_number is None
    assert detail.vehicle_price == Decimal("25000.0")
    assert detail.vehicle_interest is VehicleInterest.SELL
    # Late November is daylight saving time in Sydney (UTC+11).
    assert detail.created_at == dt.datetime(2024, 11, 27, 23, 42, 12, tzinfo=dt.UTC)
    assert detail.raw is VENDOR_DETAIL


def test_lead_detail_parsing_tolerates_odd_values():
    detail = parse_lead_detail(
        {**VENDOR_DETAIL, "VehicleType": 42, "Rating": None, "CreatedDateTime": "2024-11-28", "VehicleYear": "2018"}
    )

    assert detail.vehicle_type == 42
    assert detail.rating is None
    assert detail.created_at is None
    assert detail.vehicle_year == 2018


def test_lead_detail_without_lead_number_is_malformed():
    with pytest.raises(EasyCarsMalformedResponse):
        parse_lead_detail({**VENDOR_DETAIL, "LeadNumber": None})


# Tokens and redaction ---------------------------------------------------------------------------------


def test_token_expiry_comes_from_the_exp_claim_or_defaults_to_600_seconds():
    now = time.time()

    assert token_expiry(make_token(120)) == pytest.approx(now + 120, abs=2)
    assert token_expiry("not-a-jwt", now) == now + 600


def test_token_is_cached_until_the_refresh_margin(mock, client):
    cache = caches["default"]
    tokens = TokenCache(cache, "test", BASE, ACCOUNT.client_id)
    tokens.store("StockService", make_token(600))

    assert cache.get(tokens.key("StockService"))
    assert 530 <= cache._expire_info[cache.make_and_validate_key(tokens.key("StockService"))] - time.time() <= 541


def test_redact_blanks_secrets_at_any_depth():
    payload = {
        "AccountNumber": "EC000001",
        "AccountSecret": "s1",
        "Nested": [{"ClientSecret": "s2", "token": "t"}],
        "Empty": {"AccountSecret": ""},
    }

    assert redact(payload) == {
        "AccountNumber": "EC000001",
        "AccountSecret": "***",
        "Nested": [{"ClientSecret": "***", "token": "***"}],
        "Empty": {"AccountSecret": ""},
    }
    assert payload["AccountSecret"] == "s1"


def test_redact_text_blanks_query_secrets_and_bearer_tokens():
    text = "POST /RequestToken?ClientID=A&ClientSecret=XYZ&x=1 Authorization: Bearer eyJabc.def.ghi"

    assert redact_text(text) == "POST /RequestToken?ClientID=***&ClientSecret=***&x=1 Authorization: Bearer ***"
