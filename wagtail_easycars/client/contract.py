"""The EasyCars payloads and enums, exactly as in docs/easycars-api.md (stdlib only).

Requests serialise to the vendor's PascalCase keys (the client adds the account pair).
Responses are parsed tolerantly: unknown keys are ignored, documented quirks accepted, and
only what the contract requires is enforced.
"""

import datetime as dt
import enum
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from .errors import EasyCarsMalformedResponse

SYDNEY = ZoneInfo("Australia/Sydney")
#: ``CreatedDateTime`` format (Sydney local time, no offset).
LEAD_DATETIME_FORMAT = "%d/%m/%Y %H:%M:%S"
#: ``QuoteDate``/``ReceiveDate``/``RegoExpiry`` format.
DATE_FORMAT = "%d/%m/%Y"


class VehicleType(enum.IntEnum):
    """Lead and quotation ``VehicleType`` (docs/easycars-api.md#lead-enumerations)."""

    CAR = 1
    MOTOR_BIKE = 2
    BOAT = 3
    CARAVAN = 4
    TRUCK_OR_BUS = 5
    TRAILER = 6


class VehicleInterest(enum.IntEnum):
    """Lead ``VehicleInterest`` (docs/easycars-api.md#lead-enumerations)."""

    BUY = 1
    LEASE = 2
    SELL = 3
    TEST_DRIVE = 4
    SERVICE = 5


class FinanceStatus(enum.IntEnum):
    """Lead ``FinanceStatus`` (docs/easycars-api.md#lead-enumerations)."""

    YES = 1
    NO = 2
    MAYBE = 3


class Rating(enum.IntEnum):
    """Lead ``Rating`` (docs/easycars-api.md#lead-enumerations)."""

    COLD = 1
    WARM = 2
    HOT = 3


class LeadStatus(enum.IntEnum):
    """UpdateLead ``LeadStatus``; never returned by GetLeadDetail (docs/easycars-api.md#lead-enumerations)."""

    NEW = 10
    IN_PROGRESS = 30
    WON = 50
    LOST = 60
    DELETED = 90


class PaymentMethod(enum.IntEnum):
    """``QuotationReceipts[].PaymentMethod`` (docs/easycars-api.md#leadservice-createquotation)."""

    CASH = 1
    CREDIT_CARD = 2
    CHEQUE = 3
    BANK_TRANSFER = 4
    BPAY = 5
    EFTPOS = 6
    OTHER = 9


class ExtraType(enum.IntEnum):
    """``QuotationExtras[].ExtraType`` (docs/easycars-api.md#leadservice-createquotation)."""

    EXTRA = 1
    REGISTRATION = 4
    CTP = 5
    STAMP_DUTY = 6
    LCT = 7
    DEALER_DELIVERY = 8
    EXTENDED_WARRANTY = 9


class ResponseCode(enum.IntEnum):
    """The envelope's ``Code`` (docs/easycars-api.md#response-codes)."""

    SUCCESS = 0
    AUTHENTICATION_FAIL = 1
    WARNING = 5
    FAILED = 7
    SYSTEM_ERROR = 9


class StockType(enum.StrEnum):
    """StockItem ``StockType`` letters (docs/easycars-api.md#stocktype-codes)."""

    CAR = "A"
    BOAT = "B"
    CARAVAN = "C"
    HEAVY_TRUCK_OR_BUS = "H"
    MOTOR_BIKE = "M"
    TRAILER = "T"


#: StockType letter -> lead VehicleType: derived, not documented by EasyCars (docs/easycars-api.md#stocktype-codes).
STOCK_TYPE_TO_VEHICLE_TYPE = {
    StockType.CAR: VehicleType.CAR,
    StockType.BOAT: VehicleType.BOAT,
    StockType.CARAVAN: VehicleType.CARAVAN,
    StockType.HEAVY_TRUCK_OR_BUS: VehicleType.TRUCK_OR_BUS,
    StockType.MOTOR_BIKE: VehicleType.MOTOR_BIKE,
    StockType.TRAILER: VehicleType.TRAILER,
}

#: The 72 StockItem keys in vendor order.
STOCK_ITEM_KEYS = (
    "YardCode", "YardName", "StockNumber", "Make", "Model", "Badge", "RegoNum", "VIN", "Price",
    "YearGroup", "Odometer", "Body", "Colour", "EngineCapacity", "GearType", "FuelType",
    "AdvDescription", "Series", "AdvSpecialPrice", "IsDemo", "IsSpecial", "IsPrestiged", "StockType",
    "IsUsed", "RegoExpiry", "VideoLink", "DriveTrain", "DoorNum", "Cylinder", "ShortDescription",
    "EngineTypeDescription", "EngineSize", "StockStatus", "GCM", "GVM", "Tare", "SleepingCapacity",
    "Toilet", "Shower", "AirConditioning", "Fridge", "Stereo", "SeatCapacity", "RegoState",
    "AdditionalDescription", "IsDriveAway", "InteriorColor", "BuiltDate", "ComplianceDate",
    "EngineNumber", "GPS", "Wheelsize", "TowBallWeight", "Warranty", "Wheels", "AxleConfiguration",
    "Location", "StandardFeatures", "OptionalFeatures", "RedbookCode", "NVIC", "IsMiles", "GearCount",
    "EnginePower", "PowerkW", "Powerhp", "EngineMake", "SerialNumber", "Length", "IsDepositTaken",
    "ImageCount", "ImageURLs",
)  # fmt: skip

#: CustomerModel keys and maximum lengths (``None``: not documented).
CUSTOMER_MAX_LENGTHS = {
    "CustomerNo": 20,
    "Name": 100,
    "Email": 100,
    "Address": 200,
    "City": 50,
    "State": None,
    "PostCode": 10,
    "Fax": 20,
    "Phone": 20,
    "Mobile": 20,
}
ACCOUNT_NUMBER_MAX_LENGTH = 20
ACCOUNT_SECRET_MAX_LENGTH = 50

#: Keys UpdateLead accepts besides the account pair.
UPDATE_LEAD_KEYS = (
    "LeadNumber", "VehiclePrice", "VehicleInterest", "FinanceStatus", "Rating", "LeadStatus", "Notes",
    "VehicleSourcePageURL", "LeadCustomer",
)  # fmt: skip

ENVIRONMENTS = ("test", "production")


@dataclass(frozen=True)
class EasyCarsAccount:
    """Both credential pairs of one dealership, for one environment."""

    environment: str
    # All four are stored encrypted: none of them belongs in a repr, a log line or a traceback.
    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    account_number: str = field(repr=False)
    account_secret: str = field(repr=False)
    #: Shown in logs and messages, e.g. the dealership's slug.
    label: str = ""

    def __post_init__(self):
        if self.environment not in ENVIRONMENTS:
            raise ValueError(f"environment must be one of {ENVIRONMENTS}, not {self.environment!r}")


def _json_number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


@dataclass
class LeadCustomer:
    """The nested CustomerModel; either ``customer_no`` or both ``name`` and ``email``."""

    customer_no: str = ""
    name: str = ""
    email: str = ""
    address: str = ""
    city: str = ""
    state: str = ""
    post_code: str = ""
    fax: str = ""
    phone: str = ""
    mobile: str = ""

    _KEYS = {
        "customer_no": "CustomerNo", "name": "Name", "email": "Email", "address": "Address",
        "city": "City", "state": "State", "post_code": "PostCode", "fax": "Fax", "phone": "Phone",
        "mobile": "Mobile",
    }  # fmt: skip

    def to_payload(self):
        """The CustomerModel dict with only the non-empty keys."""
        return {key: getattr(self, attr) for attr, key in self._KEYS.items() if getattr(self, attr)}


@dataclass
class CreateLeadRequest:
    """A CreateLead body (without the account pair); optional keys are sent only when set."""

    vehicle_make: str
    vehicle_model: str
    vehicle_type: VehicleType
    vehicle_year: int
    is_vehicle_new: bool
    vehicle_interest: VehicleInterest
    customer: LeadCustomer
    stock_number: str | None = None
    vehicle_price: Decimal | float | int | None = None
    notes: str | None = None
    vehicle_source_page_url: str | None = None
    finance_status: FinanceStatus | None = None
    rating: Rating | None = None
    external_id: str | None = None

    def __post_init__(self):
        self.vehicle_type = VehicleType(self.vehicle_type)
        self.vehicle_interest = VehicleInterest(self.vehicle_interest)
        if self.finance_status is not None:
            self.finance_status = FinanceStatus(self.finance_status)
        if self.rating is not None:
            self.rating = Rating(self.rating)

    def to_payload(self):
        payload = {}
        if self.stock_number:
            payload["StockNumber"] = self.stock_number
        payload |= {
            "VehicleMake": self.vehicle_make,
            "VehicleModel": self.vehicle_model,
        }
        if self.vehicle_price is not None:
            payload["VehiclePrice"] = _json_number(self.vehicle_price)
        payload |= {
            "VehicleType": int(self.vehicle_type),
            "VehicleYear": int(self.vehicle_year),
            "IsVehicleNew": bool(self.is_vehicle_new),
            "VehicleInterest": int(self.vehicle_interest),
        }
        optional = {
            "Notes": self.notes,
            "VehicleSourcePageURL": self.vehicle_source_page_url,
            "FinanceStatus": None if self.finance_status is None else int(self.finance_status),
            "Rating": None if self.rating is None else int(self.rating),
            "ExternalID": self.external_id or None,
        }
        payload |= {key: value for key, value in optional.items() if value is not None}
        payload["LeadCustomer"] = self.customer.to_payload()
        return payload


@dataclass
class UpdateLeadRequest:
    """An UpdateLead body: only the fields given (not ``None``) are sent.

    EasyCars applies partial updates and the meaning of an explicit ``null`` is not documented,
    so ``None`` always means "leave unchanged". Send ``""`` to clear a text field.
    """

    lead_number: str
    vehicle_price: Decimal | float | int | None = None
    vehicle_interest: VehicleInterest | None = None
    finance_status: FinanceStatus | None = None
    rating: Rating | None = None
    lead_status: LeadStatus | None = None
    notes: str | None = None
    vehicle_source_page_url: str | None = None
    customer: LeadCustomer | None = None

    def __post_init__(self):
        for attr, enum_type in (
            ("vehicle_interest", VehicleInterest),
            ("finance_status", FinanceStatus),
            ("rating", Rating),
            ("lead_status", LeadStatus),
        ):
            if getattr(self, attr) is not None:
                setattr(self, attr, enum_type(getattr(self, attr)))

    def to_payload(self):
        values = {
            "LeadNumber": self.lead_number,
            "VehiclePrice": None if self.vehicle_price is None else _json_number(self.vehicle_price),
            "VehicleInterest": self.vehicle_interest,
            "FinanceStatus": self.finance_status,
            "Rating": self.rating,
            "LeadStatus": self.lead_status,
            "Notes": self.notes,
            "VehicleSourcePageURL": self.vehicle_source_page_url,
            "LeadCustomer": None if self.customer is None else self.customer.to_payload(),
        }
        return {
            key: int(value) if isinstance(value, enum.IntEnum) else value
            for key, value in values.items()
            if value is not None
        }


# Responses -----------------------------------------------------------------------------------


@dataclass
class StockListResponse:
    #: The raw StockItem dicts, exactly as EasyCars sent them.
    items: list
    #: EasyCars' ErrorMessage when it answered Code 5 (Warning).
    warning: str | None = None
    #: The response body as received (the stock sync fingerprints it, then lets it go).
    body: bytes = field(default=b"", repr=False)


@dataclass
class LeadResult:
    lead_number: str
    customer_no: str | None
    warning: str | None = None


@dataclass
class QuotationResult:
    quote_number: str
    customer_no1: str | None
    customer_no2: str | None
    warning: str | None = None


@dataclass
class Contact:
    customer_no: str
    name: str = ""
    email: str = ""
    phone: str = ""
    mobile: str = ""
    address: str = ""
    city: str = ""
    state: str = ""
    post_code: str = ""
    country: str = ""
    abn: str = ""
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class LeadDetail:
    """A GetLeadDetail answer. EasyCars does not return the lead's status."""

    lead_number: str
    stock_number: str | None
    vehicle_make: str
    vehicle_model: str
    vehicle_price: Decimal | None
    vehicle_type: int | None
    vehicle_year: int | None
    is_vehicle_new: bool | None
    vehicle_interest: int | None
    notes: str | None
    vehicle_source_page_url: str
    finance_status: int | None
    rating: int | None
    external_id: str | None
    #: ``CreatedDateTime`` read as Australia/Sydney local time; ``None`` if absent or unreadable.
    created_at: dt.datetime | None
    customer_no: str | None
    customer_name: str
    customer_email: str
    customer_address: str
    customer_city: str
    customer_state: str
    customer_post_code: str
    customer_fax: str
    customer_phone: str
    customer_mobile: str
    raw: dict = field(default_factory=dict, repr=False)
    warning: str | None = None


@dataclass
class ConnectionTestResult:
    ok: bool
    #: ``"client"``, ``"account"`` or ``None`` (nothing failed, or the failure was not a credential).
    failed_pair: str | None
    #: A sentence an editor can act on.
    message: str


# Parsing -------------------------------------------------------------------------------------


def _require(body, key, kind, endpoint):
    value = body.get(key)
    if not isinstance(value, kind):
        raise EasyCarsMalformedResponse(
            f"EasyCars answered {endpoint} without a valid {key!r}; the response does not match the contract.",
            endpoint=endpoint,
        )
    return value


def _text(value):
    """Strings as sent, ``None``/non-strings to ``""`` (EasyCars mixes ``""`` and ``null``)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _text_or_none(value):
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _int_or_none(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _enum_or_int(enum_type, value):
    number = _int_or_none(value)
    if number is None:
        return None
    try:
        return enum_type(number)
    except ValueError:
        return number


def _decimal_or_none(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def parse_lead_datetime(value):
    """``dd/MM/yyyy HH:mm:ss`` in Sydney local time to an aware datetime (``None`` if unreadable)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        naive = dt.datetime.strptime(value.strip(), LEAD_DATETIME_FORMAT)
    except ValueError:
        return None
    return naive.replace(tzinfo=SYDNEY)


def parse_stock_list(body, warning=None):
    endpoint = "StockService/GetAdvertisementStocks"
    items = _require(body, "StockList", list, endpoint)
    for item in items:
        if not isinstance(item, dict):
            raise EasyCarsMalformedResponse(
                "EasyCars sent a StockList entry that is not a JSON object.", endpoint=endpoint
            )
    return StockListResponse(items=items, warning=warning)


def parse_lead_result(body, endpoint, warning=None):
    lead_number = _require(body, "LeadNumber", str, endpoint)
    return LeadResult(lead_number=lead_number, customer_no=_text_or_none(body.get("CustomerNo")), warning=warning)


def parse_lead_detail(body, warning=None):
    lead_number = _require(body, "LeadNumber", str, "LeadService/GetLeadDetail")
    return LeadDetail(
        lead_number=lead_number,
        stock_number=_text_or_none(body.get("StockNumber")) or None,
        vehicle_make=_text(body.get("VehicleMake")),
        vehicle_model=_text(body.get("VehicleModel")),
        vehicle_price=_decimal_or_none(body.get("VehiclePrice")),
        vehicle_type=_enum_or_int(VehicleType, body.get("VehicleType")),
        vehicle_year=_int_or_none(body.get("VehicleYear")),
        is_vehicle_new=body.get("IsVehicleNew") if isinstance(body.get("IsVehicleNew"), bool) else None,
        vehicle_interest=_enum_or_int(VehicleInterest, body.get("VehicleInterest")),
        notes=_text_or_none(body.get("Notes")),
        vehicle_source_page_url=_text(body.get("VehicleSourcePageURL")),
        finance_status=_enum_or_int(FinanceStatus, body.get("FinanceStatus")),
        rating=_enum_or_int(Rating, body.get("Rating")),
        external_id=_text_or_none(body.get("ExternalID")),
        created_at=parse_lead_datetime(body.get("CreatedDateTime")),
        customer_no=_text_or_none(body.get("CustomerNo")),
        customer_name=_text(body.get("CustomerName")),
        customer_email=_text(body.get("CustomerEmail")),
        customer_address=_text(body.get("CustomerAddress")),
        customer_city=_text(body.get("CustomerCity")),
        customer_state=_text(body.get("CustomerState")),
        customer_post_code=_text(body.get("CustomerPostCode")),
        customer_fax=_text(body.get("CustomerFax")),
        customer_phone=_text(body.get("CustomerPhone")),
        customer_mobile=_text(body.get("CustomerMobile")),
        raw=body,
        warning=warning,
    )


def parse_contacts(body):
    endpoint = "LeadService/SearchContacts"
    # A null Contacts on success is read as "no matches"; a missing key breaks the contract.
    if "Contacts" not in body:
        raise EasyCarsMalformedResponse("EasyCars answered SearchContacts without 'Contacts'.", endpoint=endpoint)
    entries = body["Contacts"] or []
    if not isinstance(entries, list):
        raise EasyCarsMalformedResponse("EasyCars sent 'Contacts' that is not a list.", endpoint=endpoint)
    contacts = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise EasyCarsMalformedResponse("EasyCars sent a contact that is not an object.", endpoint=endpoint)
        contacts.append(
            Contact(
                customer_no=_text(entry.get("CustomerNo")),
                name=_text(entry.get("Name")),
                email=_text(entry.get("Email")),
                phone=_text(entry.get("Phone")),
                mobile=_text(entry.get("Mobile")),
                address=_text(entry.get("Address")),
                city=_text(entry.get("City")),
                state=_text(entry.get("State")),
                post_code=_text(entry.get("PostCode")),
                country=_text(entry.get("Country")),
                abn=_text(entry.get("ABN")),
                raw=entry,
            )
        )
    return contacts


def parse_quotation_result(body, warning=None):
    quote_number = _require(body, "QuoteNumber", str, "LeadService/CreateQuotation")
    return QuotationResult(
        quote_number=quote_number,
        customer_no1=_text_or_none(body.get("CustomerNo1")),
        customer_no2=_text_or_none(body.get("CustomerNo2")),
        warning=warning,
    )
