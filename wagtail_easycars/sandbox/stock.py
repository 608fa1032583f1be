"""A seeded generator of realistic Australian dealer stock, with the real API's quirks.

Items carry all 72 StockItem keys in vendor order (docs/easycars-api.md#stockitem-fields) and the
quirks of docs/easycars-api.md#stock-quirks-of-the-real-api. ``ImageURLs`` holds site-relative paths
(``/_sandbox/images/...``); the server makes them absolute when it answers.
"""

import datetime as dt
import random

from ..client.contract import STOCK_ITEM_KEYS, StockType

YARD_NAMES = (
    "Parramatta", "Penrith", "Liverpool", "Blacktown", "Castle Hill", "Gosford", "Newcastle",
    "Wollongong", "Campbelltown", "Hornsby",
)  # fmt: skip
STATES = ("NSW", "NSW", "NSW", "VIC", "QLD", "ACT", "SA", "WA", "TAS")
COLOURS = (
    "Glacier White", "Crystal Black", "Silver Sky", "Graphite Grey", "Eclipse Black", "Frozen White",
    "Soul Red Crystal", "Deep Blue", "Wildfire Orange", "Bronze", "",
)  # fmt: skip
INTERIORS = ("Black Cloth", "Charcoal Leather", "Grey Cloth", "Tan Leather", "", "", "")
FEATURES = (
    "Air Conditioning", "Power Steering", "Power Windows", "Power Mirrors", "Cruise Control",
    "Bluetooth Connectivity", "Apple Car Play", "Android Auto", "Reversing Camera",
    "Parking Distance Control Rear", "Blind Spot Monitoring", "Lane Keeping Assist",
    "Electronic Stability Control", "Dual Front Airbags Package", "Side Airbags", "Alloy Wheels",
    "Keyless Entry & Start", "Auto Climate Control with Dual Temp Zones", "Satellite Navigation",
    "Rain Sensing Wipers", "LED Headlights", "Heated Front Seats", "Trip Computer", "Hill Start Assist",
    "Engine Immobiliser", "Split Fold Rear Seat", "Roof Rails", "AUX/USB Input Socket",
    "Tow Bar", "Floor Mats - Front & Rear", "Daytime Running Lights - LED", "Automatic Stop/Start",
)  # fmt: skip
OPTIONS = ("Metallic Paint", "Sunroof", "Tow Pack", "Premium Sound System", "Nudge Bar", "Tinted Windows")

# make, model, badges, series, body, capacity, gears, fuel, drive, cylinder, engine type, cc, kW,
# doors, seats, new price, StockType letter
CATALOGUE = (
    ("TOYOTA", "HILUX", ("SR5 (4x4) ", "WORKMATE ", "ROGUE (4x4) "), ("GUN126R MY21 ", "GUN126R "),
     "DOUBLE CAB P/UP", "2.8L", "6 SP AUTOMATIC", "Diesel", "4X4", "4", "TURBO DIESEL", 2755, 150, 4, 5,
     62000, "A"),
    ("TOYOTA", "COROLLA", ("ASCENT SPORT ", "ZR ", "SX "), ("MZEA12R ", "ZWE211R "), "5D HATCHBACK",
     "2.0L", "CVT AUTO 10 SP", "Petrol", "FWD", "4", "DOHC DUAL VVT-i", 1987, 125, 5, 5, 32000, "A"),
    ("TOYOTA", "RAV4", ("GX (2WD) HYBRID ", "CRUISER (AWD) HYBRID "), ("AXAH52R ",), "4D WAGON", "2.5L",
     "CVT AUTO", "Hybrid", "AWD", "4", "HYBRID", 2487, 160, 4, 5, 48000, "A"),
    ("MAZDA", "CX-5", ("MAXX SPORT (4x2) ", "AKERA (4x4) ", "GT (4x4) "), ("KF SERIES ", "MY22 "),
     "4D WAGON", "2.5L", "6 SP AUTOMATIC", "Petrol", "AWD", "4", "SKYACTIV-G", 2488, 140, 4, 5, 44000, "A"),
    ("MAZDA", "3", ("G20 PURE ", "G25 ASTINA "), ("BP SERIES ",), "5D HATCHBACK", "2.0L",
     "6 SP AUTOMATIC", "Petrol", "FWD", "4", "SKYACTIV-G", 1998, 114, 5, 5, 33000, "A"),
    ("FORD", "RANGER", ("XLT 3.2 (4x4) ", "WILDTRAK 2.0 (4x4) ", "XL 2.2 (4x2) "),
     ("PX MKIII MY21.25 ", "PX MKII "), "DOUBLE CAB P/UP", "2.0L", "10 SP AUTOMATIC", "Diesel", "4X4",
     "TT4", "BI-TURBO DIESEL", 1996, 157, 4, 5, 64000, "A"),
    ("HYUNDAI", "I30", ("ACTIVE ", "N LINE ", "ELITE "), ("PD2 MY20 ", "PD.3 MY20 "), "5D HATCHBACK",
     "2.0L", "6 SP AUTOMATIC", "Petrol", "FWD", "4", "MPI", 1999, 120, 5, 5, 29000, "A"),
    ("KIA", "SPORTAGE", ("S (FWD) ", "GT-LINE (AWD) "), ("QL MY21 ", "NQ5 MY23 "), "4D WAGON", "2.0L",
     "6 SP AUTOMATIC", "Petrol", "FWD", "4", "MPI", 1999, 114, 4, 5, 38000, "A"),
    ("MITSUBISHI", "TRITON", ("GLX+ (4x4) ", "GSR (4x4) "), ("MR MY22 ",), "DOUBLE CAB P/UP", "2.4L",
     "6 SP AUTOMATIC", "Diesel", "4X4", "4", "MIVEC TURBO DIESEL", 2442, 133, 4, 5, 52000, "A"),
    ("VOLKSWAGEN", "GOLF", ("110 TSI COMFORTLINE ", "GTI "), ("7.5 MY20 ", "8 MY21 "), "5D HATCHBACK",
     "1.4L", "8 SP AUTOMATIC", "Petrol", "FWD", "4", "TSI", 1395, 110, 5, 5, 36000, "A"),
    ("HOLDEN", "COMMODORE", ("SV6 ", "EVOKE ", "SS "), ("VF II MY16 ", "VF MY15 "), "4D SEDAN", "3.6L",
     "6 SP AUTOMATIC", "Petrol", "RWD", "V6", "MPFI", 3564, 210, 4, 5, 42000, "A"),
    ("NISSAN", "NAVARA", ("ST (4x4) ", "PRO-4X (4x4) "), ("D23 SERIES 4 ",), "DUAL CAB UTILITY", "2.3L",
     "7 SP AUTOMATIC", "Diesel", "4X4", "TT4", "TWIN TURBO DIESEL", 2298, 140, 4, 5, 55000, "A"),
    ("SUBARU", "FORESTER", ("2.5I-L ", "2.5I-S "), ("S5 MY21 ",), "4D WAGON", "2.5L", "CVT AUTO 7 SP",
     "Petrol", "AWD", "F4", "BOXER", 2498, 136, 4, 5, 41000, "A"),
    ("VOLVO", "V90", ("D5 CROSS COUNTRY INSCRIPTION ",), ("236 MY19 ",), "4D WAGON", "2.0L",
     "8 SP AUTOMATIC GEARTRONIC", "Diesel", "AWD", "TT4", "TWIN TURBO CDI", 1969, 173, 4, 5, 89000, "A"),
    ("TESLA", "MODEL 3", ("STANDARD RANGE PLUS ", "LONG RANGE AWD "), ("MY21 ",), "4D SEDAN", "",
     "1 SP AUTOMATIC", "Electric", "RWD", "", "ELECTRIC", None, 211, 4, 5, 66000, "A"),
    ("ISUZU", "D-MAX", ("LS-U (4x4) ", "X-TERRAIN (4x4) "), ("TF MY21 ",), "CREW CAB UTILITY", "3.0L",
     "6 SP AUTOMATIC", "Diesel", "4X4", "4", "TURBO DIESEL", 2999, 140, 4, 5, 58000, "A"),
    ("HONDA", "CBR500R", ("ABS ",), ("MY22 ",), "SPORTS", "471CC", "6 SP MANUAL", "Petrol", "", "2",
     "DOHC", 471, 35, None, 2, 10000, "M"),
    ("YAMAHA", "MT-07", ("LAMS ", "HO "), ("MY21 ",), "NAKED", "689CC", "6 SP MANUAL", "Petrol", "", "2",
     "DOHC", 689, 55, None, 2, 12000, "M"),
    ("QUINTREX", "420 FISHABOUT", ("",), ("",), "OPEN BOAT", "", "", "Petrol", "", "", "", None, 30, None,
     4, 24000, "B"),
    ("JAYCO", "JOURNEY", ("OUTBACK ", "POP TOP "), ("",), "CARAVAN", "", "", "", "", "", "", None, None,
     None, None, 78000, "C"),
    ("ISUZU", "NPR", ("45-155 ",), ("N SERIES ",), "CAB CHASSIS", "5.2L", "6 SP AUTOMATED MANUAL",
     "Diesel", "4x2", "4", "TURBO DIESEL", 5193, 114, 2, 3, 86000, "H"),
    ("BRIFORD", "7X5 BOX TRAILER", ("",), ("",), "BOX TRAILER", "", "", "", "", "", "", None, None, None,
     None, 2900, "T"),
)  # fmt: skip
# Cars dominate real dealer stock.
WEIGHTS = [30 if entry[16] == StockType.CAR else 2 for entry in CATALOGUE]
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def yards(count):
    """``[(code, name), ...]`` for ``count`` yards: codes "100", "200", ..."""
    return [(str(100 * (i + 1)), f"{YARD_NAMES[i % len(YARD_NAMES)]} Yard") for i in range(count)]


def image_paths(account_number, stock_number, count, variant=""):
    prefix = f"{variant}-" if variant else ""
    return ",".join(f"/_sandbox/images/{account_number}/{stock_number}/{prefix}{n}.jpg" for n in range(1, count + 1))


def generate_stock(count, *, seed, account_number, yard_count=3, start=1001):
    """``count`` items for one account, the same for the same arguments."""
    rng = random.Random(f"{seed}:{account_number}")
    yard_list = yards(yard_count)
    entries = rng.choices(CATALOGUE, weights=WEIGHTS, k=count)
    this_year = dt.date.today().year
    items = []
    for index, entry in enumerate(entries):
        items.append(_item(rng, entry, str(start + index), yard_list, account_number, this_year))
    return items


def _item(rng, entry, stock_number, yard_list, account_number, this_year):
    (make, model, badges, series, body, capacity, gears, fuel, drive, cylinder, engine_type, cc, kw,
     doors, seats, new_price, letter) = entry  # fmt: skip
    stock_type = StockType(letter)
    yard_code, yard_name = rng.choice(yard_list)
    roll = rng.random()
    is_demo = roll < 0.05
    is_used = roll >= 0.3
    year = rng.randint(this_year - 15, this_year - 1) if is_used else rng.randint(this_year - 1, this_year)
    age = this_year - year
    price = int(round(new_price * max(0.25, 1 - 0.08 * age) * rng.uniform(0.9, 1.1), -2))
    if rng.random() < 0.03:
        price = None
    if is_used:
        odometer = rng.randint(8000, 25000) * max(age, 1) + rng.randint(0, 999)
    else:
        odometer = rng.randint(1000, 9000) if is_demo else rng.randint(0, 50)
    if rng.random() < 0.03:
        odometer = None
    is_special = price is not None and rng.random() < 0.1
    badge = rng.choice(badges)
    state = rng.choice(STATES)
    has_rego = is_used or is_demo
    is_car = stock_type == StockType.CAR
    is_caravan = stock_type == StockType.CARAVAN
    is_truck = stock_type == StockType.HEAVY_TRUCK_OR_BUS
    is_boat = stock_type == StockType.BOAT
    image_count = 0 if rng.random() < 0.05 else rng.randint(1, 12)
    features = rng.sample(FEATURES, rng.randint(6, 18)) if is_car or is_truck else []
    wmi = (make[:2] + "X").upper()
    vin = "" if rng.random() < 0.1 or not is_car else wmi + "".join(rng.choices(VIN_CHARS, k=14))
    values = {
        "YardCode": yard_code,
        "YardName": yard_name,
        "StockNumber": stock_number,
        "Make": make,
        "Model": model,
        "Badge": badge,
        "RegoNum": _rego(rng) if has_rego and not is_boat else "",
        "VIN": vin,
        "Price": price,
        "YearGroup": year,
        "Odometer": odometer,
        "Body": body,
        "Colour": rng.choice(COLOURS),
        "EngineCapacity": capacity,
        "GearType": gears,
        "FuelType": fuel,
        "AdvDescription": f"{year} {make.title()} {model.title()} {badge.strip().title()} in "
        f"{'excellent' if is_used else 'brand new'} condition. Finance available, trade-ins welcome. "
        f"Visit us at {yard_name}.",
        "Series": rng.choice(series),
        "AdvSpecialPrice": round(price * 0.95, -2) if is_special else None,
        "IsDemo": is_demo,
        "IsSpecial": is_special,
        "IsPrestiged": make in ("VOLVO", "TESLA") and rng.random() < 0.5,
        "StockType": stock_type.value,
        "IsUsed": is_used,
        "RegoExpiry": _date(rng, this_year, this_year + 1) if has_rego and rng.random() < 0.8 else None,
        "VideoLink": "https://www.youtube.com/watch?v=sandbox" if rng.random() < 0.02 else "",
        "DriveTrain": drive,
        "DoorNum": doors,
        "Cylinder": cylinder,
        "ShortDescription": " ".join(part for part in (model, badge.strip(), engine_type, capacity, gears) if part),
        "EngineTypeDescription": engine_type,
        "EngineSize": cc,
        "StockStatus": "On Offer" if rng.random() < 0.15 else "In Stock",
        "GCM": rng.randint(5000, 6500) if (is_car or is_truck) and "P/UP" in body else None,
        "GVM": rng.randint(1900, 3200) if is_car else None,
        "Tare": rng.randint(1200, 2300) if is_car or is_caravan else None,
        "SleepingCapacity": rng.randint(2, 6) if is_caravan else None,
        "Toilet": "Cassette Toilet" if is_caravan else "",
        "Shower": "Separate Shower" if is_caravan else "",
        # The real API sends "" here, never a boolean.
        "AirConditioning": "Roof Mounted Reverse Cycle" if is_caravan else "",
        "Fridge": "3 Way Fridge 184L" if is_caravan else "",
        "Stereo": "AM/FM Bluetooth Stereo" if rng.random() < 0.3 else "",
        "SeatCapacity": seats,
        "RegoState": state if has_rego else "",
        "AdditionalDescription": "",
        "IsDriveAway": (rng.random() < 0.4) if not is_used else rng.choice((False, None)),
        "InteriorColor": rng.choice(INTERIORS),
        "BuiltDate": f"{rng.randint(1, 12):02d}/{year}" if rng.random() < 0.6 else "",
        "ComplianceDate": f"{rng.randint(1, 12):02d}/{year}" if rng.random() < 0.5 else "",
        "EngineNumber": "",
        "GPS": "Factory Satellite Navigation" if "Satellite Navigation" in features else "",
        "Wheelsize": rng.choice(("0", "16", "17", "18")) if is_car else "0",
        "TowBallWeight": str(rng.randint(150, 250)) if is_caravan else "",
        "Warranty": "5 Year Unlimited KM Factory Warranty" if not is_used else "",
        "Wheels": "17 Inch Alloy" if is_car and rng.random() < 0.4 else "",
        "AxleConfiguration": "4x2" if is_truck else ("Single Axle" if is_caravan else ""),
        "Location": yard_name if rng.random() < 0.5 else "",
        "StandardFeatures": ",".join(features),
        "OptionalFeatures": ",".join(rng.sample(OPTIONS, rng.randint(1, 3))) if rng.random() < 0.2 else "",
        "RedbookCode": f"AU{make[:3]}{year}{rng.randint(1000, 9999)}" if is_car and rng.random() < 0.7 else "",
        "NVIC": "",
        "IsMiles": rng.random() < 0.01,
        "GearCount": int(gears.split()[0]) if gears[:1].isdigit() else None,
        "EnginePower": kw,
        "PowerkW": kw,
        "Powerhp": round(kw * 1.341, 2) if kw else None,
        "EngineMake": "",
        "SerialNumber": f"SN{rng.randint(100000, 999999)}" if is_boat or is_caravan else "",
        "Length": round(rng.uniform(4.2, 7.5), 2) if is_boat or is_caravan else None,
        "IsDepositTaken": rng.random() < 0.03,
        "ImageCount": image_count,
        "ImageURLs": image_paths(account_number, stock_number, image_count),
    }
    return {key: values[key] for key in STOCK_ITEM_KEYS}


def _rego(rng):
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return "".join(rng.choices(letters, k=3)) + f"{rng.randint(10, 99)}" + rng.choice(letters)


def _date(rng, first_year, last_year):
    return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(first_year, last_year)}"


def new_item(template, *, account_number, stock_number, yard_list):
    """A complete item for the control API: sensible defaults overlaid with ``template``."""
    rng = random.Random(f"new:{account_number}:{stock_number}")
    item = _item(rng, CATALOGUE[1], stock_number, yard_list, account_number, dt.date.today().year)
    unknown = set(template) - set(STOCK_ITEM_KEYS)
    if unknown:
        raise ValueError(f"Unknown StockItem keys: {', '.join(sorted(unknown))}")
    item.update(template)
    item["StockNumber"] = stock_number
    return item
