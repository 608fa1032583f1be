import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wagtail_easycars.client.contract import STOCK_ITEM_KEYS
from wagtail_easycars.sync.stock import mapping

VENDOR_ITEM = {
    "YardCode": "100", "YardName": "testyard1", "StockNumber": "12", "Make": "VOLVO", "Model": "V90",
    "Badge": "D5 CROSS COUNTRY INSCRIPTION ", "RegoNum": "", "VIN": "", "Price": None, "YearGroup": 2020,
    "Odometer": None, "Body": "4D WAGON", "Colour": "", "EngineCapacity": "2.0L",
    "GearType": "8 SP AUTOMATIC GEARTRONIC", "FuelType": "Diesel", "AdvDescription": "test default 1",
    "Series": "236 MY19 ", "AdvSpecialPrice": None, "IsDemo": False, "IsSpecial": False, "IsPrestiged": False,
    "StockType": "A", "IsUsed": False, "RegoExpiry": None, "VideoLink": "", "DriveTrain": "AWD", "DoorNum": None,
    "Cylinder": "TT4", "ShortDescription": "V90 D5", "EngineTypeDescription": "TWIN TURBO CDI", "EngineSize": 1969,
    "StockStatus": "On Offer", "GCM": None, "GVM": 2440, "Tare": 1894, "SleepingCapacity": None, "Toilet": "",
    "Shower": "", "AirConditioning": "", "Fridge": "", "Stereo": "", "SeatCapacity": 5, "RegoState": "QLD",
    "AdditionalDescription": "", "IsDriveAway": False, "InteriorColor": "", "BuiltDate": "", "ComplianceDate": "",
    "EngineNumber": "", "GPS": "", "Wheelsize": "0", "TowBallWeight": "", "Warranty": "", "Wheels": "",
    "AxleConfiguration": "", "Location": "", "StandardFeatures": "Apple Car Play,Hill Holder,Floor Mats - Front & Rear",
    "OptionalFeatures": "", "RedbookCode": "", "NVIC": "", "IsMiles": False, "GearCount": None, "EnginePower": 173,
    "PowerkW": 173, "Powerhp": 231.82, "EngineMake": "", "SerialNumber": "", "Length": None, "IsDepositTaken": True,
    "ImageCount": 2,
    "ImageURLs": "https://img.example.com/a/1.jpg,https://img.example.com/a/2.jpg",
}  # fmt: skip


def item(**changes):
    return {**VENDOR_ITEM, **changes}


def test_every_contract_key_is_mapped_or_kept_raw():
    kept = mapping.MAPPED_KEYS | set(mapping.RAW_KEYS) | {"ImageURLs"}
    assert set(STOCK_ITEM_KEYS) <= kept


def test_vendor_example_maps_to_clean_vehicle_fields():
    mapped = mapping.map_stock_item(VENDOR_ITEM)
    f = mapped.fields
    assert mapped.stock_number == "12"
    assert f["title"] == "2020 VOLVO V90 D5 CROSS COUNTRY INSCRIPTION"
    assert f["badge"] == "D5 CROSS COUNTRY INSCRIPTION"
    assert f["series"] == "236 MY19"
    assert f["condition"] == "new"
    assert f["stock_type"] == "A"
    assert f["status"] == "available"
    assert f["engine_size_cc"] == 1969
    assert f["power_kw"] == Decimal("173.00")
    assert f["seats"] == 5
    assert f["features"] == ["Apple Car Play", "Hill Holder", "Floor Mats - Front & Rear"]
    assert mapped.image_urls == ["https://img.example.com/a/1.jpg", "https://img.example.com/a/2.jpg"]
    assert mapped.raw["GVM"] == 2440
    assert mapped.raw["YardName"] == "testyard1"
    assert mapped.problems == []


def test_null_price_means_price_on_application_never_zero():
    assert mapping.map_stock_item(item(Price=None)).fields["price"] is None
    assert mapping.map_stock_item(item(Price=0)).fields["price"] is None
    assert mapping.map_stock_item(item(Price=23990.5)).fields["price"] == Decimal("23990.50")


def test_condition_comes_from_is_used_and_is_demo_not_stock_type():
    assert mapping.map_stock_item(item(IsUsed=True, StockType="A")).fields["condition"] == "used"
    assert mapping.map_stock_item(item(IsUsed=True, IsDemo=True)).fields["condition"] == "demo"
    assert mapping.map_stock_item(item(IsUsed=None)).fields["condition"] == "used"


def test_rego_expiry_is_read_day_first():
    assert mapping.map_stock_item(item(RegoExpiry="03/11/2026")).fields["rego_expiry"] == dt.date(2026, 11, 3)


def test_bad_rego_expiry_is_empty_and_reported():
    mapped = mapping.map_stock_item(item(RegoExpiry="2026-11-03"))
    assert mapped.fields["rego_expiry"] is None
    assert [p.field for p in mapped.problems] == ["RegoExpiry"]


def test_image_urls_are_trimmed_deduplicated_and_kept_in_order():
    urls = " https://x.test/2.jpg ,https://x.test/1.jpg,,https://x.test/2.jpg,javascript:alert(1),ftp://x.test/a"
    mapped = mapping.map_stock_item(item(ImageURLs=urls))
    assert mapped.image_urls == ["https://x.test/2.jpg", "https://x.test/1.jpg"]
    assert len([p for p in mapped.problems if p.field == "ImageURLs"]) == 2


def test_features_merge_standard_and_optional_without_duplicates():
    mapped = mapping.map_stock_item(item(StandardFeatures="A,B , a", OptionalFeatures="b,Tow Bar,"))
    assert mapped.fields["features"] == ["A", "B", "Tow Bar"]


def test_odd_casing_and_spaces_are_normalised():
    mapped = mapping.map_stock_item(item(StockType=" a ", VIN=" wvwzzz1jz3w386752 ", StockNumber=" 12 "))
    assert mapped.fields["stock_type"] == "A"
    assert mapped.fields["vin"] == "WVWZZZ1JZ3W386752"
    assert mapped.stock_number == "12"


def test_hostile_text_is_cleaned_and_capped():
    mapped = mapping.map_stock_item(
        item(Make="VOL\x00VO\u202e", Model="x" * 5000, AdvDescription="<script>alert(1)</script>\n\nNice car")
    )
    assert mapped.fields["make"] == "VOLVO"
    assert len(mapped.fields["model"]) == 100
    # Markup is stored as text; templates escape it when rendering.
    assert mapped.fields["description"] == "<script>alert(1)</script>\n\nNice car"
    assert [p.field for p in mapped.problems] == ["Model"]


def test_absurd_numbers_make_the_field_empty_and_are_reported():
    mapped = mapping.map_stock_item(
        item(Price=-5, Odometer=10**30, YearGroup=99999, DoorNum=2.5, EngineSize="lots", PowerkW=float("nan"))
    )
    f = mapped.fields
    assert (f["price"], f["odometer"], f["year"], f["doors"], f["engine_size_cc"], f["power_kw"]) == (None,) * 6
    assert {p.field for p in mapped.problems} == {"Price", "Odometer", "YearGroup", "DoorNum", "EngineSize", "PowerkW"}


def test_video_link_must_be_http():
    mapped = mapping.map_stock_item(item(VideoLink="javascript:alert(document.cookie)"))
    assert mapped.fields["video_url"] == ""
    assert mapped.problems[0].field == "VideoLink"


def test_item_without_stock_number_fails_alone():
    with pytest.raises(mapping.StockItemError):
        mapping.map_stock_item(item(StockNumber="  "))
    with pytest.raises(mapping.StockItemError):
        mapping.map_stock_item(["not", "an", "object"])


def test_content_hash_is_stable_and_sees_any_change():
    copy = json.loads(json.dumps(VENDOR_ITEM))
    assert mapping.item_hash(copy) == mapping.item_hash(VENDOR_ITEM)
    assert mapping.item_hash(item(Price=1)) != mapping.item_hash(VENDOR_ITEM)
    assert mapping.item_hash(item(Badge="D5 CROSS COUNTRY INSCRIPTION")) != mapping.item_hash(VENDOR_ITEM)


def test_content_hash_sees_key_names_whatever_was_hashed_before():
    renamed = {("Colour2" if key == "Colour" else key): value for key, value in VENDOR_ITEM.items()}
    original = mapping.item_hash(VENDOR_ITEM)
    assert mapping.item_hash(renamed) != original
    assert mapping.item_hash(VENDOR_ITEM) == original
    assert mapping.item_hash(item(Price=None)) != mapping.item_hash(item(Price="None"))


def test_json_round_trip_of_field_values():
    for name, value in [("price", Decimal("12.50")), ("rego_expiry", dt.date(2026, 1, 2)), ("features", ["a"])]:
        stored = json.loads(json.dumps(mapping.to_json(name, value)))
        assert mapping.from_json(name, stored) == value


# Property-based: any JSON value of the documented types (and some that are not) never raises.

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**45), max_value=10**45),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=120),
)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner))
stock_items = st.fixed_dictionaries({}, optional={key: json_values for key in STOCK_ITEM_KEYS})


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(stock_items)
def test_mapping_never_raises_for_any_json_values(raw_item):
    try:
        mapped = mapping.map_stock_item(raw_item)
    except mapping.StockItemError:
        assert not mapping.stock_number_of(raw_item)
        return
    f = mapped.fields
    for name, limit in mapping.MAX_LENGTHS.items():
        if name in f:
            assert len(f[name]) <= limit
    assert f["price"] is None or Decimal(0) < f["price"] < Decimal(10**10)
    assert f["condition"] in {"new", "used", "demo"}
    assert all(u.startswith(("http://", "https://")) for u in mapped.image_urls)
    json.dumps(mapped.raw)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.fixed_dictionaries({key: json_scalars for key in STOCK_ITEM_KEYS}) | st.fixed_dictionaries({}))
def test_mapping_of_full_items_of_documented_types_never_raises(raw_item):
    raw_item["StockNumber"] = "S1"
    mapped = mapping.map_stock_item(raw_item)
    assert mapped.stock_number == "S1"
    assert set(mapped.fields) == set(mapping.SYNC_FIELDS)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://cdn.example.com/a/1.jpg?w=800#top", "https://cdn.example.com/a/1.jpg?w=800#top"),
        ("HTTP://cdn.example.com:8080/1.jpg", "HTTP://cdn.example.com:8080/1.jpg"),
        ("  https://cdn.example.com/1.jpg ", "https://cdn.example.com/1.jpg"),
        ("http://[::1]/1.jpg", "http://[::1]/1.jpg"),
        ("http://[::1/1.jpg", ""),
        ("https://cdn.example.com/a b.jpg", ""),
        ("https:///1.jpg", ""),
        ("javascript://cdn.example.com/%0Aalert(1)", ""),
        ("https://cdn.example.com/" + "a" * 1000, ""),
        ("https://cdn.exämple.com/1.jpg", "https://cdn.exämple.com/1.jpg"),
    ],
)
def test_clean_url_keeps_http_urls_exactly_and_refuses_the_rest(url, expected):
    assert mapping.clean_url(url)[0] == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=" aAbB,\t\n\x00é-", max_size=12), max_size=8).map(",".join), st.integers(1, 6))
def test_split_list_trims_drops_blanks_and_duplicates_in_order(value, item_limit):
    expected = {}
    for part in value.split(","):
        text = mapping.clean_text(part, item_limit)[0]
        if text:
            expected.setdefault(text.casefold(), text)
    assert mapping.split_list(value, limit=300, item_limit=item_limit)[0] == list(expected.values())
