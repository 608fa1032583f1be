"""EasyCars StockItem -> Vehicle field values: pure functions, no ORM.

Every contract key is either mapped to a Vehicle field (``FIELD_SOURCES``) or kept in
``easycars_raw_data`` (``RAW_KEYS``). The real feed has nulls, ``""``, trailing spaces and odd
casing (docs/easycars-api.md#stock-quirks-of-the-real-api), and a hostile one can send anything JSON allows:
a bad field becomes empty and is reported as a :class:`FieldProblem`; an item that cannot be identified raises
:class:`StockItemError` and fails alone. Nothing here raises anything else for any JSON value.
"""

import datetime as dt
import hashlib
import marshal
import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import urlsplit

#: Bump when the mapping changes: every stored content hash then differs and the next sync
#: re-maps (and rewrites) each vehicle once.
MAPPING_VERSION = "1"

#: Text limits: the Vehicle columns' max_length (and a cap for the unbounded description).
MAX_LENGTHS = {
    "title": 255, "make": 100, "model": 100, "badge": 100, "series": 100, "short_description": 500,
    "body": 100, "exterior_colour": 100, "interior_colour": 100, "fuel_type": 100, "gear_type": 100,
    "engine_capacity": 50, "cylinders": 20, "drive_train": 50, "rego_number": 20, "rego_state": 10,
    "vin": 20, "video_url": 500, "location": 200, "easycars_stock_number": 100, "easycars_yard_code": 50,
    "description": 20000,
}  # fmt: skip
MAX_FEATURES = 300
MAX_FEATURE_LENGTH = 200
MAX_IMAGES = 100
MAX_IMAGE_URL_LENGTH = 1000
MAX_RAW_TEXT = 5000

#: Vehicle field -> the StockItem key it comes from (one to one, after cleaning).
TEXT_SOURCES = {
    "make": "Make", "model": "Model", "badge": "Badge", "series": "Series", "description": "AdvDescription",
    "short_description": "ShortDescription", "body": "Body", "exterior_colour": "Colour",
    "interior_colour": "InteriorColor", "fuel_type": "FuelType", "gear_type": "GearType",
    "engine_capacity": "EngineCapacity", "cylinders": "Cylinder", "drive_train": "DriveTrain",
    "rego_number": "RegoNum", "rego_state": "RegoState", "location": "Location",
}  # fmt: skip
#: Vehicle field -> (key, smallest, largest) for whole numbers.
INT_SOURCES = {
    "year": ("YearGroup", 1885, 2100),
    "odometer": ("Odometer", 0, 10_000_000),
    "gear_count": ("GearCount", 0, 30),
    "engine_size_cc": ("EngineSize", 0, 100_000),
    "doors": ("DoorNum", 0, 20),
    "seats": ("SeatCapacity", 0, 200),
}
#: Vehicle field -> (key, largest) for money and other decimals (2 places).
DECIMAL_SOURCES = {
    "price": ("Price", Decimal("9999999999.99")),
    "special_price": ("AdvSpecialPrice", Decimal("9999999999.99")),
    "power_kw": ("PowerkW", Decimal("999999.99")),
}
BOOL_SOURCES = {
    "is_drive_away": "IsDriveAway",
    "is_special": "IsSpecial",
    "is_prestige": "IsPrestiged",
    "odometer_in_miles": "IsMiles",
}
#: Keys consumed by the mapping above and by the special cases below.
MAPPED_KEYS = frozenset(
    [*TEXT_SOURCES.values(), *(k for k, *_ in INT_SOURCES.values()), *(k for k, _ in DECIMAL_SOURCES.values())]
    + [*BOOL_SOURCES.values(), "StockNumber", "YardCode", "VIN", "StockType", "RegoExpiry", "VideoLink"]
    + ["StandardFeatures", "OptionalFeatures"]
)
#: Contract keys kept as they came (cleaned) in ``easycars_raw_data``; some also feed a field
#: lossily (IsUsed/IsDemo -> condition, StockStatus -> status, ImageURLs -> the gallery).
RAW_KEYS = (
    "YardName", "IsDemo", "IsUsed", "StockStatus", "EngineTypeDescription", "GCM", "GVM", "Tare",
    "SleepingCapacity", "Toilet", "Shower", "AirConditioning", "Fridge", "Stereo", "AdditionalDescription",
    "BuiltDate", "ComplianceDate", "EngineNumber", "GPS", "Wheelsize", "TowBallWeight", "Warranty", "Wheels",
    "AxleConfiguration", "RedbookCode", "NVIC", "EnginePower", "Powerhp", "EngineMake", "SerialNumber",
    "Length", "IsDepositTaken", "ImageCount",
)  # fmt: skip

#: Every Vehicle field a sync writes (and an editor's change to which locks it).
SYNC_FIELDS = (
    "title", *TEXT_SOURCES, *INT_SOURCES, *DECIMAL_SOURCES, *BOOL_SOURCES,
    "condition", "status", "stock_type", "rego_expiry", "vin", "features", "video_url", "easycars_yard_code",
)  # fmt: skip
DECIMAL_FIELDS = frozenset(DECIMAL_SOURCES)
DATE_FIELDS = frozenset({"rego_expiry"})

STOCK_TYPES = frozenset("ABCHMT")
SOLD_STATUSES = frozenset({"sold", "sold - pending delivery", "delivered"})
# C0/C1 controls except tab/newline, plus lone surrogates, bidi overrides and zero-width tricks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"[ \t\r\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Anything clean_text would change besides trimming: controls, tabs, line breaks, double spaces.
_NEEDS_CLEANING = re.compile(_CONTROL.pattern[:-1] + r"\t\n\r]|  ")
# An http(s) URL of printable ASCII without spaces, brackets in the host or anything to trim.
_PLAIN_URL = re.compile(r"(?i:https?)://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][!-~]*)?\Z")
_VIN = re.compile(r"^[A-Z0-9]{1,20}$")
_TWO_PLACES = Decimal("0.01")


class StockItemError(ValueError):
    """The item cannot be stored at all (for example it has no stock number)."""


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def __str__(self):
        return f"{self.field}: {self.message}"


@dataclass
class MappedStockItem:
    stock_number: str
    #: Vehicle field -> value (str, int, Decimal, bool, date, list, or None).
    fields: dict
    #: Cleaned image URLs in feed order, without duplicates.
    image_urls: list
    #: What goes in Vehicle.easycars_raw_data (the contract keys not mapped one to one).
    raw: dict
    content_hash: str
    images_hash: str
    problems: list = field(default_factory=list)


# Cleaning ---------------------------------------------------------------------------------


def clean_text(value, limit, *, multiline=False):
    """A string with controls removed, spaces collapsed (kept line breaks if ``multiline``) and trimmed.

    Returns ``(text, problem_message_or_None)``. Markup is kept as text: templates escape it.
    """
    if type(value) is str and value.isascii() and not _NEEDS_CLEANING.search(value):
        # The common case, tens of times per item: printable ASCII with single spaces.
        text = value.strip()
        if len(text) <= limit:
            return text, None
    if value is None:
        return "", None
    if isinstance(value, bool) or isinstance(value, (list, dict)):
        return "", f"expected text, got {type(value).__name__}"
    if isinstance(value, (int, float)):
        value = format(value, "g") if isinstance(value, float) else str(value)
    if _NEEDS_CLEANING.search(value):
        text = _CONTROL.sub("", value)
        if multiline:
            lines = text.replace("\r\n", "\n").split("\n")
            text = "\n".join(_SPACES.sub(" ", line).strip() for line in lines)
            text = _BLANK_LINES.sub("\n\n", text).strip()
        else:
            text = _SPACES.sub(" ", text).strip()
    else:  # the common case: printable text with single spaces
        text = value.strip()
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if len(text) > limit:
        return text[:limit].rstrip(), f"longer than {limit} characters; shortened"
    return text, None


def _number(value):
    """A finite Decimal from a JSON number or numeric string, or raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if isinstance(value, str):
        value = value.strip().replace(",", "").lstrip("$")
        if len(value) > 40:
            raise ValueError("not a number")
    try:
        number = Decimal(str(value)) if not isinstance(value, int) or abs(value) < 10**40 else None
    except (InvalidOperation, ValueError):
        raise ValueError("not a number")
    if number is None or not number.is_finite():
        raise ValueError("not a finite number")
    return number


def clean_int(value, lowest, highest):
    if value is None or value == "":
        return None, None
    try:
        number = _number(value)
    except ValueError as exc:
        return None, str(exc)
    if number != number.to_integral_value() or not lowest <= number <= highest:
        return None, f"{value!r} is outside {lowest}–{highest} or not a whole number"
    return int(number), None


def clean_decimal(value, highest):
    if value is None or value == "":
        return None, None
    try:
        number = _number(value)
    except ValueError as exc:
        return None, str(exc)
    if number < 0 or number > highest:
        return None, f"{value!r} is outside 0–{highest}"
    return number.quantize(_TWO_PLACES, rounding=ROUND_HALF_UP), None


def clean_bool(value):
    if value is None or value == "":
        return False, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "1", "false", "no", "0"}:
        return value.strip().lower() in {"true", "yes", "1"}, None
    if isinstance(value, int) and value in (0, 1):
        return bool(value), None
    return False, f"expected true or false, got {type(value).__name__}"


def parse_date(value):
    """``dd/mm/yyyy`` (the contract's RegoExpiry format) to a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if not isinstance(value, str):
        return None, f"expected a dd/mm/yyyy date, got {type(value).__name__}"
    try:
        return dt.datetime.strptime(value.strip()[:10], "%d/%m/%Y").date(), None
    except ValueError:
        return None, "not a dd/mm/yyyy date"


def split_list(value, *, limit, item_limit):
    """Comma-separated text to a list: trimmed, blanks dropped, duplicates dropped, order kept."""
    if value is None:
        return [], None
    if not isinstance(value, str):
        return [], f"expected comma-separated text, got {type(value).__name__}"
    seen = {}
    problem = None
    if value.isascii() and not _NEEDS_CLEANING.search(value):
        # Clean as a whole, so each part only needs trimming (what clean_text would do to it).
        parts = [part.strip() for part in value.split(",")]
        cleaned = [(part, None) if len(part) <= item_limit else clean_text(part, item_limit) for part in parts]
    else:
        cleaned = (clean_text(part, item_limit) for part in value.split(","))
    for text, _ in cleaned:
        if text and text.casefold() not in seen:
            if len(seen) >= limit:
                problem = f"more than {limit} entries; the rest were dropped"
                break
            seen[text.casefold()] = text
    return list(seen.values()), problem


def clean_url(value, limit=MAX_IMAGE_URL_LENGTH):
    """An absolute http(s) URL or ``""`` (other schemes, e.g. ``javascript:``, are refused)."""
    if type(value) is str and len(value) <= limit and _PLAIN_URL.match(value):
        return value, None  # what the checks below would return, at a fraction of urlsplit's cost
    text, problem = clean_text(value, 10 * limit)
    if not text:
        return "", problem
    if len(text) > limit:
        return "", f"URL longer than {limit} characters"
    try:
        parts = urlsplit(text)
    except ValueError:
        return "", "not a URL"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        return "", "not an http(s) URL"
    return text, None


def split_image_urls(value):
    urls, problem = split_list(value, limit=10 * MAX_IMAGES, item_limit=10 * MAX_IMAGE_URL_LENGTH)
    problems = [problem] if problem else []
    kept, seen = [], set()
    for url in urls:
        cleaned, url_problem = clean_url(url)
        if url_problem:
            problems.append(f"{url[:80]!r}: {url_problem}")
        elif cleaned not in seen:
            seen.add(cleaned)
            kept.append(cleaned)
    if len(kept) > MAX_IMAGES:
        problems.append(f"more than {MAX_IMAGES} images; the rest were dropped")
        kept = kept[:MAX_IMAGES]
    return kept, problems


def _raw_value(value):
    if type(value) is str:
        return clean_text(value, MAX_RAW_TEXT, multiline=True)[0]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else None
    if isinstance(value, str):
        return clean_text(value, MAX_RAW_TEXT, multiline=True)[0]
    return None  # nested JSON where the contract has a scalar: dropped


# Identity and hashing -----------------------------------------------------------------------


_STOCK_NUMBER_LENGTH = MAX_LENGTHS["easycars_stock_number"]


def stock_number_of(item):
    """The item's stock number, trimmed, or ``""`` when it has none usable."""
    if not isinstance(item, dict):
        return ""
    value = item.get("StockNumber")
    if type(value) is str and value.isalnum() and value.isascii() and len(value) <= _STOCK_NUMBER_LENGTH:
        return value  # the common case, which clean_text would return unchanged
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    text, problem = clean_text(value, MAX_LENGTHS["easycars_stock_number"])
    return "" if problem else text


def item_hash(item):
    """A content hash of the item as EasyCars sent it (plus the mapping version).

    Hashing the raw item lets an unchanged vehicle be skipped without mapping it at all, so a
    re-sync with nothing changed costs little more than the fetch. The key names and the values
    are encoded apart with ``marshal`` format 2 (no object references, so equal values give equal
    bytes; each part is self-delimiting): EasyCars sends every item with the same keys in the same
    order, so the names are encoded and hashed once per run (see :func:`_primed_hasher`) and each
    item costs one encoding of its values, about half the work of encoding the whole dict. A
    reordering of the keys only costs one rewrite of each hash.
    """
    digest = _primed_hasher(tuple(item)).copy()
    digest.update(_encode(tuple(item.values())))
    return digest.hexdigest()


#: (mapping version, key names, sha256 of both): the last key set seen by :func:`item_hash`.
#: Swapped whole and never updated in place, so threads can share it.
_primed = (None, None, None)


def _primed_hasher(keys):
    global _primed
    version, primed_keys, hasher = _primed
    # Keys parsed from one response are the same str objects item after item: this compares
    # pointers, not text.
    if keys != primed_keys or version != MAPPING_VERSION:
        hasher = hashlib.sha256(MAPPING_VERSION.encode() + b":" + _encode(keys))
        _primed = (MAPPING_VERSION, keys, hasher)
    return hasher


def _encode(values):
    try:
        return marshal.dumps(values, 2)
    except ValueError:  # not plain JSON data (cannot come from a parsed response)
        return b"\0" + repr(values).encode("utf-8", "surrogatepass")


def images_hash(urls):
    return hashlib.sha256("\n".join(urls).encode("utf-8", "surrogatepass")).hexdigest() if urls else ""


# The mapping --------------------------------------------------------------------------------


def build_title(make, model, badge, year, stock_number):
    words = [str(year) if year else "", make, model, badge]
    title = " ".join(w for w in words if w)
    return (title or f"Stock #{stock_number}")[: MAX_LENGTHS["title"]].rstrip()


def condition_of(item, problems):
    is_demo, demo_problem = clean_bool(item.get("IsDemo"))
    # A missing IsUsed is read as used: claiming "new" for a used car is the worse mistake.
    is_used, used_problem = clean_bool(item.get("IsUsed")) if item.get("IsUsed") not in (None, "") else (True, None)
    for key, problem in (("IsDemo", demo_problem), ("IsUsed", used_problem)):
        if problem:
            problems.append(FieldProblem(key, problem))
    if is_demo:
        return "demo"
    return "used" if is_used else "new"


def status_of(item):
    status = item.get("StockStatus")
    if isinstance(status, str) and status.strip().casefold() in SOLD_STATUSES:
        return "sold"
    return "available"


def map_stock_item(item, content_hash=None):
    """Map one StockItem dict; raises :class:`StockItemError` only when it cannot be stored.

    ``content_hash`` is the item's :func:`item_hash` when the caller has it already.
    """
    if not isinstance(item, dict):
        raise StockItemError(f"expected a JSON object, got {type(item).__name__}")
    stock_number = stock_number_of(item)
    if not stock_number:
        raise StockItemError("the item has no usable StockNumber")
    problems = []
    values = {}

    def note(key, problem):
        if problem:
            problems.append(FieldProblem(key, problem))

    for name, key in TEXT_SOURCES.items():
        values[name], problem = clean_text(item.get(key), MAX_LENGTHS[name], multiline=name == "description")
        note(key, problem)
    for name, (key, lowest, highest) in INT_SOURCES.items():
        values[name], problem = clean_int(item.get(key), lowest, highest)
        note(key, problem)
    for name, (key, highest) in DECIMAL_SOURCES.items():
        values[name], problem = clean_decimal(item.get(key), highest)
        note(key, problem)
    for name, key in BOOL_SOURCES.items():
        values[name], problem = clean_bool(item.get(key))
        note(key, problem)
    # No price is "price on application", never 0; EasyCars also uses 0 for "no price".
    for name in ("price", "special_price"):
        if values[name] == 0:
            values[name] = None

    values["condition"] = condition_of(item, problems)
    values["status"] = status_of(item)

    stock_type, problem = clean_text(item.get("StockType"), 5)
    stock_type = stock_type.upper()
    if stock_type and stock_type not in STOCK_TYPES:
        problem = f"unknown vehicle kind {stock_type!r}"
        stock_type = ""
    values["stock_type"] = stock_type
    note("StockType", problem)

    values["rego_expiry"], problem = parse_date(item.get("RegoExpiry"))
    note("RegoExpiry", problem)

    vin, problem = clean_text(item.get("VIN"), 40)
    vin = vin.upper().replace(" ", "")
    if vin and not _VIN.match(vin):
        problem, vin = "not a VIN (up to 20 letters and digits)", ""
    values["vin"] = vin
    note("VIN", problem)

    standard, problem = split_list(item.get("StandardFeatures"), limit=MAX_FEATURES, item_limit=MAX_FEATURE_LENGTH)
    note("StandardFeatures", problem)
    optional, problem = split_list(item.get("OptionalFeatures"), limit=MAX_FEATURES, item_limit=MAX_FEATURE_LENGTH)
    note("OptionalFeatures", problem)
    known = {f.casefold() for f in standard}
    values["features"] = (standard + [f for f in optional if f.casefold() not in known])[:MAX_FEATURES]

    values["video_url"], problem = clean_url(item.get("VideoLink"), MAX_LENGTHS["video_url"])
    note("VideoLink", problem)
    values["easycars_yard_code"], problem = clean_text(item.get("YardCode"), MAX_LENGTHS["easycars_yard_code"])
    note("YardCode", problem)

    values["title"] = build_title(values["make"], values["model"], values["badge"], values["year"], stock_number)

    image_urls, image_problems = split_image_urls(item.get("ImageURLs"))
    problems.extend(FieldProblem("ImageURLs", p) for p in image_problems)

    # Empty values carry nothing and would only make every row bigger to write.
    raw = {key: value for key in RAW_KEYS if (value := _raw_value(item.get(key))) not in ("", None)}
    raw["ImageURLs"] = image_urls
    return MappedStockItem(
        stock_number=stock_number,
        fields=values,
        image_urls=image_urls,
        raw=raw,
        content_hash=item_hash(item) if content_hash is None else content_hash,
        images_hash=images_hash(image_urls),
        problems=problems,
    )


# JSON for history and conflicts -------------------------------------------------------------


def to_json(field_name, value):
    """A field value as stored in FieldChange/VehicleConflict JSON (decimals and dates as text)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def from_json(field_name, value):
    """The inverse of :func:`to_json` for a Vehicle field."""
    if value is None:
        return None
    if field_name in DECIMAL_FIELDS:
        return Decimal(str(value))
    if field_name in DATE_FIELDS:
        return dt.date.fromisoformat(value)
    return value
