"""The sandbox answers the docs/easycars-api.md examples, sent as raw JSON, with the documented shapes."""

import base64
import io
import json
import re
import subprocess
import sys
import time

import httpx
import pytest
from PIL import Image

from wagtail_easycars.sandbox import SandboxControl, SandboxServer

# Vendor order, copied from docs/easycars-api.md#stockitem-fields (kept literal so the test does not trust the package).
STOCK_ITEM_KEYS = """YardCode YardName StockNumber Make Model Badge RegoNum VIN Price YearGroup Odometer Body
Colour EngineCapacity GearType FuelType AdvDescription Series AdvSpecialPrice IsDemo IsSpecial IsPrestiged
StockType IsUsed RegoExpiry VideoLink DriveTrain DoorNum Cylinder ShortDescription EngineTypeDescription
EngineSize StockStatus GCM GVM Tare SleepingCapacity Toilet Shower AirConditioning Fridge Stereo SeatCapacity
RegoState AdditionalDescription IsDriveAway InteriorColor BuiltDate ComplianceDate EngineNumber GPS Wheelsize
TowBallWeight Warranty Wheels AxleConfiguration Location StandardFeatures OptionalFeatures RedbookCode NVIC
IsMiles GearCount EnginePower PowerkW Powerhp EngineMake SerialNumber Length IsDepositTaken ImageCount
ImageURLs""".split()
LEAD_DETAIL_KEYS = """LeadNumber StockNumber VehicleMake VehicleModel VehiclePrice VehicleType VehicleYear
IsVehicleNew VehicleInterest Notes VehicleSourcePageURL FinanceStatus Rating ExternalID CreatedDateTime
CustomerNo CustomerName CustomerEmail CustomerAddress CustomerCity CustomerState CustomerPostCode CustomerFax
CustomerPhone CustomerMobile Code ErrorMessage""".split()
CONTACT_KEYS = "CustomerNo Name Email Phone Mobile Address City State PostCode Country ABN".split()

ACCOUNT = {"AccountNumber": "EC000001", "AccountSecret": "00000000-0000-0000-0000-000000000003"}
CLIENT = {"ClientID": "00000000-0000-0000-0000-000000000001", "ClientSecret": "00000000-0000-0000-0000-000000000002"}
CREATE_LEAD_EXAMPLE = {
    **ACCOUNT,
    "StockNumber": "12", "VehicleMake": "VOLVO", "VehicleModel": "V90", "VehiclePrice": 65000,
    "VehicleType": 1, "VehicleYear": 2020, "IsVehicleNew": False, "VehicleInterest": 1,
    "Notes": "Enquiry from website", "VehicleSourcePageURL": "https://dealer.example/stock/12",
    "FinanceStatus": 3, "Rating": 2, "ExternalID": "web-0001",
    "LeadCustomer": {"Name": "EasyCars Customer", "Email": "customer@example.com", "Mobile": "0420000000"},
}  # fmt: skip


@pytest.fixture
def http():
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def call(sandbox, http):
    """POST a raw body to an operation with a fresh token of that service."""

    def call(service, operation, body, token=None):
        token = token or _token(http, sandbox.base_url, service)
        response = http.post(
            f"{sandbox.base_url}/{service}/{operation}", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
        return response.json()

    return call


def _token(http, base_url, service, client=CLIENT):
    response = http.post(f"{base_url}/{service}/RequestToken", params=client, content=b"")
    return response.json()["Token"]


def _claims(token):
    header, payload, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload)


# Tokens and the envelope ---------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["StockService", "LeadService"])
def test_request_token_answers_a_600_second_hs256_jwt(sandbox, http, service):
    response = http.post(f"{sandbox.base_url}/{service}/RequestToken", params=CLIENT, content=b"")

    body = response.json()
    assert list(body) == ["Token", "Code", "ErrorMessage"]
    assert (body["Code"], body["ErrorMessage"]) == (0, None)
    header, claims = _claims(body["Token"])
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert list(claims) == ["ClientID", "nbf", "exp", "iat"]
    assert claims["ClientID"] == CLIENT["ClientID"]
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] - claims["iat"] == 600


def test_request_token_with_wrong_client_secret_is_code_1_without_token(sandbox, http):
    response = http.post(
        f"{sandbox.base_url}/StockService/RequestToken", params={**CLIENT, "ClientSecret": "wrong"}, content=b""
    )

    assert response.json() == {"Token": None, "Code": 1, "ErrorMessage": "Invalid client credentials."}


def test_stock_token_is_not_accepted_by_lead_service(sandbox, http, call):
    stock_token = _token(http, sandbox.base_url, "StockService")

    assert call("LeadService", "SearchContacts", {**ACCOUNT, "Name": "x"}, token=stock_token) == {
        "Code": 1,
        "ErrorMessage": "Invalid token.",
    }


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not-a-jwt", "Basic abc"])
def test_missing_or_malformed_token_is_invalid_token(sandbox, http, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = http.post(f"{sandbox.base_url}/StockService/GetAdvertisementStocks", json=ACCOUNT, headers=headers)

    assert response.status_code == 200
    assert response.json() == {"Code": 1, "ErrorMessage": "Invalid token."}


def test_expired_token_is_invalid_token(sandbox, http, call):
    sandbox.control.add_fault("RequestToken", "token_lifetime", seconds=1)
    token = _token(http, sandbox.base_url, "StockService")
    time.sleep(1.1)

    assert call("StockService", "GetAdvertisementStocks", ACCOUNT, token=token)["ErrorMessage"] == "Invalid token."


def test_wrong_account_secret_is_code_1(call):
    body = {**ACCOUNT, "AccountSecret": "00000000-0000-0000-0000-000000000009"}

    assert call("StockService", "GetAdvertisementStocks", body) == {
        "Code": 1,
        "ErrorMessage": "Invalid account number or secret.",
    }


def test_account_of_another_client_is_code_1(sandbox, call):
    other = sandbox.accounts[1]
    body = {"AccountNumber": other.account_number, "AccountSecret": other.account_secret}

    assert call("StockService", "GetAdvertisementStocks", body) == {
        "Code": 1,
        "ErrorMessage": "The account is not linked to this API client.",
    }


def test_other_methods_are_405_with_an_envelope(sandbox, http):
    response = http.get(f"{sandbox.base_url}/StockService/GetAdvertisementStocks")

    assert response.status_code == 405
    assert response.json()["Code"] == 7
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize(
    "path", ["/TestECService/StockService/GetStocks", "/testecservice/StockService/RequestToken", "/RequestToken"]
)
def test_unknown_paths_and_wrong_casing_are_404(sandbox, http, path):
    response = http.post(sandbox.root_url + path, params=CLIENT)

    assert response.status_code == 404
    assert response.json() == {"Code": 7, "ErrorMessage": "Unknown endpoint."}


def test_production_prefix_is_served_too(sandbox, http):
    response = http.post(f"{sandbox.root_url}/ECService/LeadService/RequestToken", params=CLIENT, content=b"")

    assert response.json()["Code"] == 0


# GetAdvertisementStocks --------------------------------------------------------------------------------


def test_stock_example_request_answers_stock_list_with_vendor_keys(call):
    body = call("StockService", "GetAdvertisementStocks", ACCOUNT)

    assert list(body) == ["StockList", "Code", "ErrorMessage"]
    assert (body["Code"], body["ErrorMessage"]) == (0, None)
    assert body["StockList"]
    for item in body["StockList"]:
        assert list(item) == STOCK_ITEM_KEYS
        assert isinstance(item["ImageURLs"], str)
        assert item["ImageCount"] == (len(item["ImageURLs"].split(",")) if item["ImageURLs"] else 0)
        assert item["StockType"] in "ABCHMT"
        assert isinstance(item["AirConditioning"], str)
        assert isinstance(item["StockNumber"], str)
        assert isinstance(item["YardCode"], str)
        assert item["Price"] is None or isinstance(item["Price"], int | float)


def test_generated_stock_carries_the_real_quirks(sandbox, call):
    sandbox.control.reset(stock=400)

    items = call("StockService", "GetAdvertisementStocks", ACCOUNT)["StockList"]

    assert any(item["Price"] is None for item in items)
    assert any(item["Odometer"] is None for item in items)
    assert any(item["VIN"] == "" for item in items)
    assert any(item["Badge"].endswith(" ") for item in items)
    assert any(item["Series"].endswith(" ") for item in items)
    assert any(item["ImageURLs"] == "" for item in items)
    assert {item["AirConditioning"] for item in items} >= {""}
    assert sum(item["StockType"] == "A" for item in items) > len(items) * 0.7
    assert {item["IsUsed"] for item in items} == {True, False}
    assert any(item["IsDemo"] for item in items)
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", item["RegoExpiry"]) for item in items if item["RegoExpiry"])


def test_yard_code_filters_and_unknown_yard_is_empty(call):
    assert {
        i["YardCode"]
        for i in call("StockService", "GetAdvertisementStocks", {**ACCOUNT, "YardCode": "100"})["StockList"]
    } == {"100"}
    assert call("StockService", "GetAdvertisementStocks", {**ACCOUNT, "YardCode": "999"})["StockList"] == []


def test_same_seed_gives_the_same_stock_and_another_seed_differs(sandbox, call):
    first = call("StockService", "GetAdvertisementStocks", ACCOUNT)["StockList"]
    sandbox.control.reset(seed=1)
    again = call("StockService", "GetAdvertisementStocks", ACCOUNT)["StockList"]
    sandbox.control.reset(seed=2)
    other = call("StockService", "GetAdvertisementStocks", ACCOUNT)["StockList"]

    assert first == again
    assert first != other


def test_twenty_thousand_items_are_generated_and_served(sandbox, call):
    # How fast is for bench/ to say (docs/performance.md); tests do not assert timings.
    sandbox.control.reset(stock=20000, accounts=1)
    items = call("StockService", "GetAdvertisementStocks", ACCOUNT)["StockList"]

    assert len(items) == 20000
    assert len({item["StockNumber"] for item in items}) == 20000


def test_control_api_changes_show_in_the_next_stock_list(sandbox, call):
    control = sandbox.control
    first, second, third = (item["StockNumber"] for item in control.stock()[:3])
    added = control.add_stock({"Make": "MAZDA", "Model": "BT-50", "Price": 45990})
    control.reprice(first, 12345)
    control.edit_stock(second, {"Colour": "Red", "Odometer": None})
    control.remove_stock(third)

    items = {i["StockNumber"]: i for i in call("StockService", "GetAdvertisementStocks", ACCOUNT)["StockList"]}

    assert items[added["StockNumber"]]["Make"] == "MAZDA"
    assert list(items[added["StockNumber"]]) == STOCK_ITEM_KEYS
    assert items[first]["Price"] == 12345
    assert (items[second]["Colour"], items[second]["Odometer"]) == ("Red", None)
    assert third not in items


# Images ---------------------------------------------------------------------------------------------------


def _first_image_url(sandbox):
    return next(item["ImageURLs"].split(",")[0] for item in sandbox.control.stock() if item["ImageURLs"])


def test_image_urls_serve_stable_small_jpegs(sandbox, http):
    url = _first_image_url(sandbox)

    first, second = http.get(url), http.get(url)

    assert first.headers["Content-Type"] == "image/jpeg"
    assert first.content == second.content
    assert Image.open(io.BytesIO(first.content)).size == (640, 480)
    assert url.startswith(sandbox.root_url + "/_sandbox/images/")


def test_replaced_images_have_new_urls_and_content(sandbox, http):
    item = next(item for item in sandbox.control.stock() if item["ImageURLs"])
    old = item["ImageURLs"].split(",")[0]

    updated = sandbox.control.set_images(item["StockNumber"], count=2, variant="v2")

    new = updated["ImageURLs"].split(",")
    assert updated["ImageCount"] == 2
    assert old not in new
    assert http.get(new[0]).content != http.get(old).content


@pytest.mark.parametrize(
    ("kind", "params", "check"),
    [
        ("404", {}, lambda r: r.status_code == 404),
        ("not_image", {}, lambda r: r.status_code == 200 and not r.content.startswith(b"\xff\xd8")),
        ("oversize", {"bytes": 3_000_000}, lambda r: len(r.content) == 3_000_000),
        ("slow", {"ms": 300}, lambda r: r.elapsed.total_seconds() >= 0.3),
    ],
)
def test_image_faults(sandbox, http, kind, params, check):
    url = _first_image_url(sandbox)
    sandbox.control.add_image_fault(url, kind, count=1, **params)

    assert check(http.get(url))
    assert http.get(url).status_code == 200


# LeadService ---------------------------------------------------------------------------------------------


def test_create_lead_illustrative_request_answers_lead_and_customer_numbers(call):
    body = call("LeadService", "CreateLead", CREATE_LEAD_EXAMPLE)

    assert list(body) == ["LeadNumber", "CustomerNo", "Code", "ErrorMessage"]
    assert re.fullmatch(r"\d{6}", body["LeadNumber"])
    assert re.fullmatch(r"\d{5}", body["CustomerNo"])
    assert (body["Code"], body["ErrorMessage"]) == (0, None)


def test_received_bodies_are_kept_exactly_as_sent(sandbox, http):
    token = _token(http, sandbox.base_url, "LeadService")
    raw = json.dumps(CREATE_LEAD_EXAMPLE, indent=1).encode()

    http.post(
        f"{sandbox.base_url}/LeadService/CreateLead",
        content=raw,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )

    assert sandbox.control.received()[0]["body"] == raw.decode()


# Faults after the work --------------------------------------------------------------------------------


def _create_lead(sandbox, http, timeout=10):
    token = _token(http, sandbox.base_url, "LeadService")
    return http.post(
        f"{sandbox.base_url}/LeadService/CreateLead",
        json=CREATE_LEAD_EXAMPLE,
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
    )


def test_late_answer_does_the_work_before_the_client_gives_up(sandbox, http):
    sandbox.control.answer_late("CreateLead", 800)

    with pytest.raises(httpx.ReadTimeout):
        _create_lead(sandbox, http, timeout=0.3)

    assert len(sandbox.control.leads()) == 1  # stored before the answer was due
    deadline = time.monotonic() + 5
    while not sandbox.control.requests("CreateLead") and time.monotonic() < deadline:
        time.sleep(0.05)
    [logged] = sandbox.control.requests("CreateLead")
    assert logged["fault"] == "late_answer"
    assert (logged["processed"], logged["late_ms"], logged["status"]) == (True, 800, 200)
    assert _create_lead(sandbox, http).json()["LeadNumber"] == "000002"  # the fault covered one call


@pytest.mark.parametrize("status", [502, 503, 429])
def test_fail_after_processing_stores_each_call_then_answers_the_status(sandbox, http, status):
    sandbox.control.fail_after_processing("CreateLead", status, count=2)

    answers = [_create_lead(sandbox, http).status_code for _ in range(3)]

    assert answers == [status, status, 200]
    assert [lead["LeadNumber"] for lead in sandbox.control.leads()] == ["000001", "000002", "000003"]
    assert [entry["processed"] for entry in sandbox.control.requests("CreateLead")] == [True, True, True]


def test_late_answer_combines_with_a_status_after_the_work(sandbox, http):
    sandbox.control.add_fault("CreateLead", "http_error", status=504, process=True, count=1)
    sandbox.control.answer_late("CreateLead", 300)

    started = time.monotonic()
    response = _create_lead(sandbox, http)

    assert response.status_code == 504
    assert time.monotonic() - started >= 0.29
    assert len(sandbox.control.leads()) == 1


def test_update_lead_illustrative_request_answers_the_same_shape(call, sandbox):
    created = call("LeadService", "CreateLead", CREATE_LEAD_EXAMPLE)
    update = {**ACCOUNT, "LeadNumber": created["LeadNumber"], "LeadStatus": 30, "Rating": 3}

    body = call("LeadService", "UpdateLead", update)

    assert body == {"LeadNumber": created["LeadNumber"], "CustomerNo": created["CustomerNo"], "Code": 0,
                    "ErrorMessage": None}  # fmt: skip
    assert sandbox.control.leads()[0]["LeadStatus"] == 30
    assert sandbox.control.leads()[0]["Rating"] == 3
    assert sandbox.control.leads()[0]["Notes"] == "Enquiry from website"


def test_get_lead_detail_answers_the_flat_vendor_shape(call):
    created = call("LeadService", "CreateLead", {**CREATE_LEAD_EXAMPLE, "StockNumber": "1001"})

    body = call("LeadService", "GetLeadDetail", {**ACCOUNT, "LeadNumber": created["LeadNumber"]})

    assert list(body) == LEAD_DETAIL_KEYS
    assert "LeadStatus" not in body
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", body["CreatedDateTime"])
    assert (body["StockNumber"], body["VehicleType"], body["IsVehicleNew"]) == ("1001", 1, False)
    assert isinstance(body["VehiclePrice"], float)
    assert body["CustomerEmail"] == "customer@example.com"
    assert body["CustomerFax"] == ""


def test_lead_for_stock_the_account_does_not_have_has_null_stock_number(call):
    created = call("LeadService", "CreateLead", {**CREATE_LEAD_EXAMPLE, "StockNumber": "no-such"})

    assert call("LeadService", "GetLeadDetail", {**ACCOUNT, "LeadNumber": created["LeadNumber"]})["StockNumber"] is None


def test_search_contacts_answers_the_vendor_contact_shape(call):
    call("LeadService", "CreateLead", CREATE_LEAD_EXAMPLE)

    body = call("LeadService", "SearchContacts", {**ACCOUNT, "Phone": "0420000000"})

    assert list(body) == ["Contacts", "Code", "ErrorMessage"]
    assert body["Contacts"]
    assert all(list(contact) == CONTACT_KEYS for contact in body["Contacts"])


def test_create_quotation_answers_quote_and_customer_numbers(call):
    body = call(
        "LeadService",
        "CreateQuotation",
        {
            **ACCOUNT,
            "YardCode": "100",
            "VehicleMake": "VOLVO",
            "VehicleModel": "V90",
            "VehicleType": 1,
            "IsVehicleNew": True,
            "VehicleYear": 2024,
            "QuoteDate": "28/11/2024",
            "BasePrice": 80000,
            "SellingPrice": 82000,
            "RegoState": "NSW",
            "QuotationCustomer1": {"Name": "A Buyer", "Email": "a@example.com"},
            "QuotationCustomer2": {"Name": "B Buyer", "Email": "b@example.com"},
            "QuotationExtras": [{"ExtraType": 8, "Amount": 990}],
        },  # fmt: skip
    )

    assert list(body) == ["QuoteNumber", "CustomerNo1", "CustomerNo2", "Code", "ErrorMessage"]
    assert body["QuoteNumber"] == "000001"
    assert body["CustomerNo1"] != body["CustomerNo2"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"QuotationReceipts": [{"Amount": 500, "ReceiveDate": "28/11/2024", "PaymentMethod": 7, "Reference": "r"}]},
            "QuotationReceipts[0].PaymentMethod must be one of 1, 2, 3, 4, 5, 6, 9.",
        ),
        ({"QuotationExtras": [{"ExtraType": 2, "Amount": 990}]}, "QuotationExtras[0].ExtraType must be one of 1, 4, 5"),
        ({"QuoteDate": "2024-11-28"}, "QuoteDate must be a date in dd/MM/yyyy format."),
    ],
)
def test_quotation_enums_and_dates_are_checked(call, changes, message):
    body = {
        **ACCOUNT, "YardCode": "100", "VehicleMake": "VOLVO", "VehicleModel": "V90", "VehicleType": 1,
        "IsVehicleNew": True, "VehicleYear": 2024, "QuoteDate": "28/11/2024", "BasePrice": 80000,
        "SellingPrice": 82000, "RegoState": "NSW", "QuotationCustomer1": {"Name": "A Buyer", "Email": "a@example.com"},
    }  # fmt: skip

    answer = call("LeadService", "CreateQuotation", {**body, **changes})

    assert answer["Code"] == 7
    assert answer["ErrorMessage"].startswith(message)


@pytest.mark.parametrize(
    ("operation", "changes", "message"),
    [
        ("CreateLead", {"VehicleType": None}, "VehicleType is required."),
        ("CreateLead", {"VehicleInterest": 6}, "VehicleInterest must be one of 1, 2, 3, 4, 5."),
        ("CreateLead", {"IsVehicleNew": "yes"}, "IsVehicleNew must be true or false."),
        ("CreateLead", {"VehicleModel": "M" * 51}, "VehicleModel exceeds 50 characters."),
        (
            "CreateLead",
            {"LeadCustomer": {"Name": "No Email"}},
            "LeadCustomer needs a CustomerNo, or both Name and Email.",
        ),
        ("CreateLead", {"LeadCustomer": {"CustomerNo": "99999"}}, "LeadCustomer.CustomerNo 99999 was not found."),
        (
            "CreateLead",
            {"LeadCustomer": {"Name": "X", "Email": "e" * 101}},
            "LeadCustomer.Email exceeds 100 characters.",
        ),
        ("CreateLead", {"LeadCustomer": None, "CustomerName": "Flat"}, "LeadCustomer is required."),
        ("CreateLead", {"ExternalID": "x" * 51}, "ExternalID exceeds 50 characters."),
        ("CreateLead", {"VehicleSourcePageURL": "u" * 401}, "VehicleSourcePageURL exceeds 400 characters."),
        ("UpdateLead", {"LeadNumber": "000001", "VehicleMake": "X"}, "UpdateLead does not accept VehicleMake"),
        ("UpdateLead", {"LeadNumber": "000001", "Notes": None}, "Notes is null"),
        ("UpdateLead", {"LeadNumber": "000404"}, "Lead 000404 was not found."),
        ("UpdateLead", {"LeadNumber": "000001", "LeadStatus": 20}, "LeadStatus must be one of 10, 30, 50, 60, 90."),
        ("SearchContacts", {}, "At least one of Name, Email or Phone is required."),
        ("GetLeadDetail", {}, "LeadNumber is required."),
        ("CreateQuotation", {"YardCode": "100"}, "VehicleMake is required."),
    ],
)
def test_invalid_requests_are_code_7_with_a_useful_message(call, operation, changes, message):
    call("LeadService", "CreateLead", CREATE_LEAD_EXAMPLE)
    body = {**ACCOUNT, **(CREATE_LEAD_EXAMPLE if operation == "CreateLead" else {}), **changes}
    body = {key: value for key, value in body.items() if not (value is None and operation == "CreateLead")}

    answer = call("LeadService", operation, body)

    assert answer["Code"] == 7
    assert answer["ErrorMessage"].startswith(message)


def test_deleted_lead_cannot_be_reactivated(call):
    lead = call("LeadService", "CreateLead", CREATE_LEAD_EXAMPLE)["LeadNumber"]
    call("LeadService", "UpdateLead", {**ACCOUNT, "LeadNumber": lead, "LeadStatus": 90})

    answer = call("LeadService", "UpdateLead", {**ACCOUNT, "LeadNumber": lead, "LeadStatus": 30})

    assert answer == {"Code": 7, "ErrorMessage": f"Lead {lead} is deleted and cannot be reverted to an active status."}


def test_lead_numbers_count_up_and_customers_are_reused_by_email(call):
    first = call("LeadService", "CreateLead", CREATE_LEAD_EXAMPLE)
    second = call("LeadService", "CreateLead", {**CREATE_LEAD_EXAMPLE, "LeadCustomer": {"Name": "Other",
                                                "Email": "CUSTOMER@example.com"}})  # fmt: skip
    third = call("LeadService", "CreateLead", {**CREATE_LEAD_EXAMPLE, "LeadCustomer": {"Name": "New",
                                               "Email": "new@example.com"}})  # fmt: skip

    assert [first["LeadNumber"], second["LeadNumber"], third["LeadNumber"]] == ["000001", "000002", "000003"]
    assert first["CustomerNo"] == second["CustomerNo"] != third["CustomerNo"]


# The process ---------------------------------------------------------------------------------------------


def test_state_file_keeps_leads_and_stock_across_restarts(tmp_path, http):
    state_file = str(tmp_path / "sandbox.json")
    with SandboxServer(stock=5, state_file=state_file) as server:
        token = _token(http, server.base_url, "LeadService")
        http.post(f"{server.base_url}/LeadService/CreateLead", json=CREATE_LEAD_EXAMPLE,
                  headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        SandboxControl(server.root_url).reprice("1001", 777)

    with SandboxServer(stock=50, state_file=state_file) as server, SandboxControl(server.root_url) as control:
        assert [lead["LeadNumber"] for lead in control.leads()] == ["000001"]
        assert len(control.stock()) == 5
        assert control.stock_item("1001")["Price"] == 777


def test_module_runs_as_a_command_line_server():
    process = subprocess.Popen(
        [sys.executable, "-m", "wagtail_easycars.sandbox", "--port", "0", "--stock", "3", "--accounts", "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        root = process.stdout.readline().split(" on ")[1].strip()
        with SandboxControl(root) as control:
            info = control.info()
        assert info["base_urls"]["test"] == f"{root}/TestECService"
        assert [account["stock"] for account in info["accounts"]] == [3, 3]
    finally:
        process.terminate()
        process.wait(5)
