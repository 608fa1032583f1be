"""The EasyCars client against the sandbox over real loopback HTTP: every endpoint, tokens and auth."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.cache import caches

from wagtail_easycars.client.contract import (
    CreateLeadRequest,
    EasyCarsAccount,
    FinanceStatus,
    LeadCustomer,
    LeadStatus,
    Rating,
    UpdateLeadRequest,
    VehicleInterest,
    VehicleType,
)
from wagtail_easycars.client.errors import EasyCarsApiError, EasyCarsAuthenticationError
from wagtail_easycars.client.http import EasyCarsClient, test_connection

pytestmark = pytest.mark.usefixtures("sandbox_settings")


def lead_request(**overrides):
    values = {
        "vehicle_make": "VOLVO",
        "vehicle_model": "V90",
        "vehicle_type": VehicleType.CAR,
        "vehicle_year": 2020,
        "is_vehicle_new": False,
        "vehicle_interest": VehicleInterest.BUY,
        "customer": LeadCustomer(name="Jo Citizen", email="jo@example.com", mobile="0420000001"),
        "stock_number": "1001",
        "vehicle_price": Decimal("65000.00"),
        "notes": "Is it still available?",
        "finance_status": FinanceStatus.MAYBE,
        "rating": Rating.WARM,
        "external_id": "web-0001",
    }
    return CreateLeadRequest(**(values | overrides))


@pytest.fixture
def client(sandbox_settings):
    with EasyCarsClient(sandbox_settings.account) as client:
        yield client


def test_stock_list_returns_every_item_with_all_vendor_keys(client, sandbox):
    result = client.get_advertisement_stocks()

    assert len(result.items) == len(sandbox.control.stock())
    assert result.warning is None
    assert all(len(item) == 72 for item in result.items)


def test_stock_list_answer_is_freed_without_waiting_for_the_garbage_collector(client, sandbox):
    import gc

    import httpx

    gc.collect()
    gc.disable()
    try:
        result = client.get_advertisement_stocks()
        alive = [o for o in gc.get_objects() if isinstance(o, httpx.Response)]
    finally:
        gc.enable()
    assert result.items
    assert result.body.startswith(b"{")  # the raw answer, for the sync's feed fingerprint
    assert alive == []


def test_yard_code_limits_the_stock_list(client, sandbox):
    expected = {item["StockNumber"] for item in sandbox.control.stock(yard="200")}

    result = client.get_advertisement_stocks(yard_code="200")

    assert {item["StockNumber"] for item in result.items} == expected
    assert {item["YardCode"] for item in result.items} == {"200"}


def test_created_lead_reads_back_with_its_details(client):
    created = client.create_lead(lead_request())

    detail = client.get_lead_detail(created.lead_number)

    assert created.lead_number == "000001"
    assert detail.lead_number == created.lead_number
    assert detail.customer_no == created.customer_no
    assert detail.stock_number == "1001"
    assert detail.vehicle_price == Decimal("65000")
    assert detail.vehicle_type is VehicleType.CAR
    assert detail.customer_email == "jo@example.com"
    assert detail.external_id == "web-0001"
    assert detail.created_at.tzinfo is not None
    assert abs(detail.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_create_lead_sends_the_nested_customer_and_no_empty_keys(client, sandbox):
    client.create_lead(lead_request(notes=None))

    body = json.loads(sandbox.control.received()[0]["body"])
    assert body["LeadCustomer"] == {"Name": "Jo Citizen", "Email": "jo@example.com", "Mobile": "0420000001"}
    assert "Notes" not in body
    assert body["AccountNumber"] == sandbox.account.account_number


def test_update_lead_sends_only_the_changed_keys(client, sandbox):
    created = client.create_lead(lead_request())

    result = client.update_lead(UpdateLeadRequest(created.lead_number, lead_status=LeadStatus.IN_PROGRESS))

    body = json.loads(sandbox.control.received()[-1]["body"])
    assert set(body) == {"AccountNumber", "AccountSecret", "LeadNumber", "LeadStatus"}
    assert result.customer_no == created.customer_no
    assert sandbox.control.leads()[0]["LeadStatus"] == 30


def test_deleted_lead_cannot_be_reactivated(client):
    created = client.create_lead(lead_request())
    client.update_lead(UpdateLeadRequest(created.lead_number, lead_status=LeadStatus.DELETED))

    with pytest.raises(EasyCarsApiError) as caught:
        client.update_lead(UpdateLeadRequest(created.lead_number, lead_status=LeadStatus.NEW))

    assert caught.value.code == 7
    assert "cannot be reverted" in caught.value.error_message


def test_unknown_lead_is_a_refusal_with_easycars_message(client):
    with pytest.raises(EasyCarsApiError, match="Lead 000999 was not found"):
        client.get_lead_detail("000999")


def test_invalid_lead_is_refused_with_the_field_named(client):
    request = lead_request(customer=LeadCustomer(name="Jo", email="x" * 101))

    with pytest.raises(EasyCarsApiError, match=r"LeadCustomer\.Email exceeds 100 characters"):
        client.create_lead(request)


def test_same_email_reuses_the_customer(client):
    first = client.create_lead(lead_request())
    second = client.create_lead(lead_request(external_id="web-0002"))

    assert first.customer_no == second.customer_no
    assert first.lead_number != second.lead_number


@pytest.mark.parametrize(
    "filters",
    [{"email": "JO@example.com"}, {"phone": "0420000001"}, {"name": "citizen"}],
)
def test_search_contacts_finds_the_lead_customer(client, filters):
    created = client.create_lead(lead_request())

    contacts = client.search_contacts(**filters)

    assert [contact.customer_no for contact in contacts] == [created.customer_no]
    assert contacts[0].email == "jo@example.com"


def test_search_contacts_with_no_match_is_empty(client):
    assert client.search_contacts(email="nobody@invalid.example") == []


def test_create_quotation_returns_the_quote_number(client):
    payload = {
        "YardCode": "100",
        "VehicleMake": "VOLVO",
        "VehicleModel": "V90",
        "VehicleType": 1,
        "IsVehicleNew": False,
        "VehicleYear": 2020,
        "QuoteDate": "01/03/2025",
        "BasePrice": 60000,
        "SellingPrice": 62000,
        "RegoState": "NSW",
        "QuotationCustomer1": {"Name": "Jo Citizen", "Email": "jo@example.com"},
    }

    result = client.create_quotation(payload)

    assert result.quote_number == "000001"
    assert result.customer_no1
    assert result.customer_no2 is None


def test_token_is_reused_across_calls_and_clients_sharing_a_cache(sandbox):
    with EasyCarsClient(sandbox.account) as first, EasyCarsClient(sandbox.account) as second:
        first.get_advertisement_stocks()
        first.get_advertisement_stocks()
        second.get_advertisement_stocks()

    assert sandbox.control.count("StockService/RequestToken") == 1
    assert sandbox.control.count("StockService/GetAdvertisementStocks") == 3


def test_each_service_gets_its_own_token(client, sandbox):
    client.get_advertisement_stocks()
    client.search_contacts(email="nobody@invalid.example")

    assert sandbox.control.count("StockService/RequestToken") == 1
    assert sandbox.control.count("LeadService/RequestToken") == 1


def test_cache_keys_hold_no_secrets(client, sandbox):
    client.get_advertisement_stocks()

    keys = list(caches["default"]._cache)
    assert keys
    assert not any(sandbox.account.client_secret in key or sandbox.account.client_id in key for key in keys)


def test_expired_token_is_renewed_once(client, sandbox):
    client.get_advertisement_stocks()
    sandbox.control.revoke_tokens()

    client.get_advertisement_stocks()

    assert sandbox.control.count("StockService/RequestToken") == 2
    assert sandbox.control.count("StockService/GetAdvertisementStocks") == 3


def test_token_rejected_again_after_renewal_raises_instead_of_looping(client, sandbox):
    sandbox.control.add_fault("GetAdvertisementStocks", "code", code=1, message="Invalid token.")

    with pytest.raises(EasyCarsAuthenticationError) as caught:
        client.get_advertisement_stocks()

    assert caught.value.pair is None
    assert sandbox.control.count("StockService/RequestToken") == 2
    assert sandbox.control.count("StockService/GetAdvertisementStocks") == 2


def test_short_token_lifetime_is_handled(client, sandbox):
    sandbox.control.add_fault("RequestToken", "token_lifetime", seconds=2)

    client.get_advertisement_stocks()
    client.get_advertisement_stocks()

    assert sandbox.control.count("StockService/GetAdvertisementStocks") == 2


def test_wrong_client_secret_names_the_client_pair(sandbox):
    account = EasyCarsAccount(**{**vars(sandbox.account), "client_secret": "wrong"})

    with EasyCarsClient(account) as client, pytest.raises(EasyCarsAuthenticationError) as caught:
        client.get_advertisement_stocks()

    assert caught.value.pair == "client"


def test_wrong_account_secret_names_the_account_pair(sandbox):
    account = EasyCarsAccount(**{**vars(sandbox.account), "account_secret": "wrong"})

    with EasyCarsClient(account) as client, pytest.raises(EasyCarsAuthenticationError) as caught:
        client.get_advertisement_stocks()

    assert caught.value.pair == "account"


def test_another_dealers_account_pair_is_rejected_for_this_client(sandbox):
    mine, theirs = sandbox.accounts[:2]
    mixed = EasyCarsAccount(
        **{**vars(mine), "account_number": theirs.account_number, "account_secret": theirs.account_secret}
    )

    with EasyCarsClient(mixed) as client, pytest.raises(EasyCarsAuthenticationError) as caught:
        client.create_lead(lead_request())

    assert caught.value.pair == "account"
    assert sandbox.control.leads(account=2) == []


def test_each_account_sees_only_its_own_leads(sandbox):
    with EasyCarsClient(sandbox.accounts[0]) as first, EasyCarsClient(sandbox.accounts[1]) as second:
        created = first.create_lead(lead_request())
        with pytest.raises(EasyCarsApiError):
            second.get_lead_detail(created.lead_number)


def test_connection_test_succeeds_with_good_credentials(sandbox):
    result = test_connection(sandbox.account)

    assert result.ok
    assert result.failed_pair is None
    assert sandbox.control.count("GetAdvertisementStocks") == 0


def test_connection_test_names_a_bad_client_pair(sandbox):
    result = test_connection(EasyCarsAccount(**{**vars(sandbox.account), "client_secret": "nope"}))

    assert (result.ok, result.failed_pair) == (False, "client")
    assert result.message == "EasyCars rejected the Client ID or Client Secret."


def test_connection_test_names_a_bad_account_pair(sandbox):
    result = test_connection(EasyCarsAccount(**{**vars(sandbox.account), "account_secret": "nope"}))

    assert (result.ok, result.failed_pair) == (False, "account")
    assert result.message == "EasyCars rejected the Account Number or Account Secret."


def test_connection_test_reports_an_unreachable_host(sandbox, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "BASE_URLS": {"test": "http://127.0.0.1:9/Test"}}

    result = test_connection(sandbox.account)

    assert (result.ok, result.failed_pair) == (False, None)
    assert result.message.startswith("Could not reach EasyCars at 127.0.0.1:")


def test_production_environment_uses_the_production_path(sandbox):
    account = EasyCarsAccount(**{**vars(sandbox.account), "environment": "production"})

    with EasyCarsClient(account) as client:
        assert client.get_advertisement_stocks().items
