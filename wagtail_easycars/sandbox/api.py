"""The EasyCars operations: request bodies in, envelopes out (HTTP lives in server.py).

Each operation follows its section of docs/easycars-api.md; where that is silent, the choices
are listed in docs/sandbox.md.
"""

import datetime as dt
import json

from ..client.contract import DATE_FORMAT, LEAD_DATETIME_FORMAT, SYDNEY, UPDATE_LEAD_KEYS, LeadStatus, ResponseCode
from . import validation as v
from .state import new_customer

INVALID_TOKEN = "Invalid token."
INVALID_ACCOUNT = "Invalid account number or secret."
ACCOUNT_NOT_LINKED = "The account is not linked to this API client."
INVALID_CLIENT = "Invalid client credentials."


def envelope(code=ResponseCode.SUCCESS, message=None, **keys):
    return {**keys, "Code": int(code), "ErrorMessage": message}


def request_token(state, service, query, lifetime):
    client_id = query.get("ClientID", "")
    data = state.client(client_id, query.get("ClientSecret", ""))
    if not client_id or data is None:
        return envelope(ResponseCode.AUTHENTICATION_FAIL, INVALID_CLIENT, Token=None)
    return envelope(Token=state.signer.issue(service, data.account.client_id, lifetime))


def authenticate(state, service, headers, raw_body):
    """``(account data, body)`` for a valid call, or an error envelope as the first item."""
    authorization = headers.get("Authorization") or ""
    scheme, _, token = authorization.partition(" ")
    client_id = state.signer.verify(service, token.strip()) if scheme.lower() == "bearer" else None
    if client_id is None:
        return envelope(ResponseCode.AUTHENTICATION_FAIL, INVALID_TOKEN), None
    try:
        body = json.loads(raw_body or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return envelope(ResponseCode.FAILED, "The request body must be a JSON object."), None
    try:
        v.account_pair(body)
    except v.Invalid as exc:
        return envelope(ResponseCode.FAILED, str(exc)), None
    data = state.account(body.get("AccountNumber"))
    if data is None or not body.get("AccountSecret") or data.account.account_secret != body["AccountSecret"]:
        return envelope(ResponseCode.AUTHENTICATION_FAIL, INVALID_ACCOUNT), None
    if data.account.client_id != client_id:
        return envelope(ResponseCode.AUTHENTICATION_FAIL, ACCOUNT_NOT_LINKED), None
    return data, body


def stock_yard_filter(body):
    """The YardCode to filter on; ``""`` is read as "no filter" (undocumented)."""
    return v.string(body, "YardCode", 20) or None


def _now_sydney():
    return dt.datetime.now(SYDNEY).strftime(LEAD_DATETIME_FORMAT)


def _resolve_customer(data, model, path):
    """The customer a CustomerModel names: by CustomerNo, else reused by e-mail, else created."""
    v.customer_model(model, path)
    customer_no = model.get("CustomerNo")
    if customer_no:
        if customer_no not in data.customers:
            raise v.Invalid(f"{path}.CustomerNo {customer_no} was not found.")
        return data.customers[customer_no]
    if not (model.get("Name") or "").strip() or not (model.get("Email") or "").strip():
        raise v.Invalid(f"{path} needs a CustomerNo, or both Name and Email.")
    email = model["Email"].strip().lower()
    details = {key: value for key, value in model.items() if key != "CustomerNo" and isinstance(value, str)}
    for customer in data.customers.values():
        if customer["Email"].strip().lower() == email:
            # Reused as-is, except that empty details are filled from the new request.
            for key, value in details.items():
                if value and not customer.get(key):
                    customer[key] = value
            return customer
    customer = new_customer(data.take_customer_number(), **details)
    data.customers[customer["CustomerNo"]] = customer
    return customer


def create_lead(state, data, body):
    v.string(body, "StockNumber", 20)
    v.string(body, "VehicleMake", 100, required=True)
    v.string(body, "VehicleModel", 50, required=True)
    v.number(body, "VehiclePrice")
    v.integer(body, "VehicleType", required=True, choices=v.VEHICLE_TYPES)
    v.vehicle_year(body, required=True)
    v.boolean(body, "IsVehicleNew", required=True)
    v.integer(body, "VehicleInterest", required=True, choices=v.VEHICLE_INTERESTS)
    v.string(body, "Notes")
    v.string(body, "VehicleSourcePageURL", 400)
    v.integer(body, "FinanceStatus", choices=v.FINANCE_STATUSES)
    v.integer(body, "Rating", choices=v.RATINGS)
    v.string(body, "ExternalID", 50)
    customer = _resolve_customer(data, v.obj(body, "LeadCustomer", required=True), "LeadCustomer")
    lead_number = data.take_lead_number()
    stock_number = body.get("StockNumber")
    data.leads[lead_number] = {
        "LeadNumber": lead_number,
        # Only kept when the account has that stock ("the lead is created for that stock").
        "StockNumber": stock_number if stock_number in data.stock else None,
        "VehicleMake": body["VehicleMake"],
        "VehicleModel": body["VehicleModel"],
        "VehiclePrice": body.get("VehiclePrice"),
        "VehicleType": body["VehicleType"],
        "VehicleYear": body["VehicleYear"],
        "IsVehicleNew": body["IsVehicleNew"],
        "VehicleInterest": body["VehicleInterest"],
        "Notes": body.get("Notes"),
        "VehicleSourcePageURL": body.get("VehicleSourcePageURL") or "",
        "FinanceStatus": body.get("FinanceStatus"),
        "Rating": body.get("Rating"),
        "ExternalID": body.get("ExternalID"),
        "CreatedDateTime": _now_sydney(),
        "CustomerNo": customer["CustomerNo"],
        "LeadStatus": int(LeadStatus.NEW),
        "Quotations": [],
    }
    return envelope(LeadNumber=lead_number, CustomerNo=customer["CustomerNo"])


def update_lead(state, data, body):
    allowed = {"AccountNumber", "AccountSecret", *UPDATE_LEAD_KEYS}
    for key, value in body.items():
        if key not in allowed:
            raise v.Invalid(f"UpdateLead does not accept {key}; it is not part of the UpdateLead model.")
        if value is None:
            raise v.Invalid(f"{key} is null; omit keys you do not intend to change.")
    lead_number = v.string(body, "LeadNumber", 20, required=True)
    v.number(body, "VehiclePrice")
    v.integer(body, "VehicleInterest", choices=v.VEHICLE_INTERESTS)
    v.integer(body, "FinanceStatus", choices=v.FINANCE_STATUSES)
    v.integer(body, "Rating", choices=v.RATINGS)
    status = v.integer(body, "LeadStatus", choices=v.LEAD_STATUSES)
    v.string(body, "Notes")
    v.string(body, "VehicleSourcePageURL", 400)
    lead = data.leads.get(lead_number)
    if lead is None:
        raise v.Invalid(f"Lead {lead_number} was not found.")
    if lead["LeadStatus"] == LeadStatus.DELETED and status is not None and status != LeadStatus.DELETED:
        raise v.Invalid(f"Lead {lead_number} is deleted and cannot be reverted to an active status.")
    if "LeadCustomer" in body:
        customer = _resolve_customer(data, v.obj(body, "LeadCustomer"), "LeadCustomer")
        lead["CustomerNo"] = customer["CustomerNo"]
    for key in ("VehiclePrice", "VehicleInterest", "FinanceStatus", "Rating", "LeadStatus", "Notes"):
        if key in body:
            lead[key] = body[key]
    if "VehicleSourcePageURL" in body:
        lead["VehicleSourcePageURL"] = body["VehicleSourcePageURL"]
    return envelope(LeadNumber=lead_number, CustomerNo=lead["CustomerNo"])


def get_lead_detail(state, data, body):
    lead_number = v.string(body, "LeadNumber", 20, required=True)
    lead = data.leads.get(lead_number)
    if lead is None:
        raise v.Invalid(f"Lead {lead_number} was not found.")
    customer = data.customers[lead["CustomerNo"]]
    detail = {
        key: lead[key]
        for key in (
            "LeadNumber", "StockNumber", "VehicleMake", "VehicleModel", "VehiclePrice", "VehicleType",
            "VehicleYear", "IsVehicleNew", "VehicleInterest", "Notes", "VehicleSourcePageURL",
            "FinanceStatus", "Rating", "ExternalID", "CreatedDateTime", "CustomerNo",
        )
    }  # fmt: skip
    if detail["VehiclePrice"] is not None:
        detail["VehiclePrice"] = float(detail["VehiclePrice"])
    for key in ("Name", "Email", "Address", "City", "State", "PostCode", "Fax", "Phone", "Mobile"):
        detail[f"Customer{key}"] = customer.get(key) or ""
    return envelope(**detail)


CONTACT_KEYS = (
    "CustomerNo", "Name", "Email", "Phone", "Mobile", "Address", "City", "State", "PostCode", "Country", "ABN",
)  # fmt: skip


def search_contacts(state, data, body):
    name = v.string(body, "Name", 100)
    email = v.string(body, "Email", 100)
    phone = v.string(body, "Phone", 20)
    if not (name or email or phone):
        raise v.Invalid("At least one of Name, Email or Phone is required.")
    contacts = []
    for customer in data.customers.values():
        if name and name.lower() not in customer["Name"].lower():
            continue
        if email and email.strip().lower() != customer["Email"].strip().lower():
            continue
        if phone and phone not in (customer["Phone"], customer["Mobile"]):
            continue
        contacts.append({key: customer.get(key, "") for key in CONTACT_KEYS})
    return envelope(Contacts=contacts)


def create_quotation(state, data, body):
    v.string(body, "YardCode", required=True)
    v.string(body, "VehicleMake", 100, required=True)
    v.string(body, "VehicleModel", 50, required=True)
    v.integer(body, "VehicleType", required=True, choices=v.VEHICLE_TYPES)
    v.boolean(body, "IsVehicleNew", required=True)
    v.vehicle_year(body, required=True)
    v.date(body, "QuoteDate", DATE_FORMAT, required=True)
    v.number(body, "BasePrice", required=True)
    v.number(body, "SellingPrice", required=True)
    v.string(body, "RegoState", 3, required=True)
    v.string(body, "LeadNumber", 20)
    lengths = {
        "StockNumber": 20, "Series": 30, "SeriesModelYear": 30, "Badge": 65, "BadgeSecondary": 50,
        "Body": 50, "Colour": 50, "GearType": 50, "InteriorColour": 50, "SpecialConditions": 1000,
        "FinanceNote": 1000,
    }  # fmt: skip
    for key, max_length in lengths.items():
        v.string(body, key, max_length)
    for key in ("Discount", "TaxRate"):
        v.number(body, key)
    for key in ("IsCalcGovCharges", "IsIGCPrice", "IsCommercial"):
        v.boolean(body, key)
    _check_finance_company(v.obj(body, "FinanceCompany"))
    _check_receipts(v.array(body, "QuotationReceipts"))
    _check_tradeins(v.array(body, "QuotationTradeins"))
    _check_extras(v.array(body, "QuotationExtras"))
    customer1 = _resolve_customer(data, v.obj(body, "QuotationCustomer1", required=True), "QuotationCustomer1")
    model2 = v.obj(body, "QuotationCustomer2")
    customer2 = _resolve_customer(data, model2, "QuotationCustomer2") if model2 else None
    quote_number = data.take_quote_number()
    data.quotations[quote_number] = {"QuoteNumber": quote_number, "Request": _without_secret(body)}
    lead = data.leads.get(body.get("LeadNumber") or "")
    if lead is not None:
        lead["Quotations"].append(quote_number)
    return envelope(
        QuoteNumber=quote_number,
        CustomerNo1=customer1["CustomerNo"],
        CustomerNo2=customer2["CustomerNo"] if customer2 else None,
    )


def _without_secret(body):
    return {key: value for key, value in body.items() if key != "AccountSecret"}


def _check_finance_company(company):
    if company is None:
        return
    path = "FinanceCompany"
    v.string(company, "Name", 100, required=True, path=path)
    v.string(company, "ABN", 20, required=True, path=path)
    for key in ("Email", "Address", "City", "State", "PostCode", "Fax", "Phone", "Mobile"):
        v.string(company, key, v.CUSTOMER_MAX_LENGTHS[key], path=path)


def _check_receipts(receipts):
    for index, receipt in enumerate(receipts):
        path = f"QuotationReceipts[{index}]"
        v.number(receipt, "Amount", required=True, path=path)
        v.string(receipt, "Description", 200, path=path)
        v.date(receipt, "ReceiveDate", DATE_FORMAT, required=True, path=path)
        v.integer(receipt, "PaymentMethod", required=True, choices=v.PAYMENT_METHODS, path=path)
        v.string(receipt, "Reference", 30, required=True, path=path)


def _check_tradeins(tradeins):
    for index, tradein in enumerate(tradeins):
        path = f"QuotationTradeins[{index}]"
        v.number(tradein, "Allowance", required=True, path=path)
        v.string(tradein, "Make", 100, required=True, path=path)
        v.string(tradein, "Model", 50, required=True, path=path)
        v.integer(tradein, "VehicleType", required=True, choices=v.VEHICLE_TYPES, path=path)
        v.vehicle_year(tradein, required=True, path=path)
        lengths = {
            "Badge": 65, "BadgeSecondary": 50, "Body": 50, "GearType": 50, "EngineNumber": 22,
            "RegoNum": 10, "RegoState": 3, "Series": 30, "SeriesModelYear": 50, "VIN": 20,
        }  # fmt: skip
        for key, max_length in lengths.items():
            v.string(tradein, key, max_length, path=path)
        v.date(tradein, "BuildDate", "%m/%y", path=path)
        v.number(tradein, "FinancePayout", path=path)
        v.integer(tradein, "Odometer", path=path)
        v.boolean(tradein, "IsCommercial", path=path)


def _check_extras(extras):
    for index, extra in enumerate(extras):
        path = f"QuotationExtras[{index}]"
        v.integer(extra, "ExtraType", required=True, choices=v.EXTRA_TYPES, path=path)
        v.number(extra, "Amount", required=True, path=path)
        v.number(extra, "TaxRate", path=path)
        v.number(extra, "Cost", path=path)
        v.string(extra, "Description", 200, path=path)
        for key in ("Dutiable", "LCTApply", "PriceIncluded"):
            v.boolean(extra, key, path=path)


OPERATIONS = {
    "CreateLead": create_lead,
    "UpdateLead": update_lead,
    "GetLeadDetail": get_lead_detail,
    "SearchContacts": search_contacts,
    "CreateQuotation": create_quotation,
}
#: Operations whose bodies are kept for the control API's "received" read-back.
RECORDED = ("CreateLead", "UpdateLead", "CreateQuotation")
