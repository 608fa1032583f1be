"""schema.org ``Car`` + ``Offer`` JSON-LD and the meta description of a vehicle page."""

from django.utils.text import Truncator
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..models import Vehicle

ITEM_CONDITION = {
    Vehicle.Condition.NEW: "https://schema.org/NewCondition",
    Vehicle.Condition.USED: "https://schema.org/UsedCondition",
    # schema.org has no demonstrator condition; a demo car has been registered and driven.
    Vehicle.Condition.DEMO: "https://schema.org/UsedCondition",
}


def _number(value):
    if value is None:
        return None
    return int(value) if value == int(value) else float(value)


def vehicle_json_ld(vehicle, *, url, image_urls, dealership):
    """The ``Car`` (with its ``Offer``) for a vehicle page; absent facts are left out, never guessed."""
    data = {
        "@context": "https://schema.org",
        "@type": "Car",
        "name": vehicle.title,
        "url": url,
        "brand": {"@type": "Brand", "name": vehicle.make} if vehicle.make else None,
        "model": vehicle.model or None,
        "vehicleConfiguration": vehicle.badge or None,
        "vehicleModelDate": str(vehicle.year) if vehicle.year else None,
        "itemCondition": ITEM_CONDITION.get(vehicle.condition),
        "bodyType": vehicle.body or None,
        "color": vehicle.exterior_colour or None,
        "vehicleInteriorColor": vehicle.interior_colour or None,
        "fuelType": vehicle.fuel_type or None,
        "vehicleTransmission": vehicle.gear_type or None,
        "driveWheelConfiguration": vehicle.drive_train or None,
        "numberOfDoors": vehicle.doors,
        "seatingCapacity": vehicle.seats,
        "vehicleIdentificationNumber": vehicle.vin or None,
        "description": Truncator(vehicle.short_description or vehicle.description).chars(5000) or None,
        "image": list(image_urls) or None,
        "sku": vehicle.easycars_stock_number or None,
    }
    if vehicle.odometer is not None:
        data["mileageFromOdometer"] = {
            "@type": "QuantitativeValue",
            "value": vehicle.odometer,
            "unitCode": "SMI" if vehicle.odometer_in_miles else "KMT",
        }
    if vehicle.engine_size_cc:
        data["vehicleEngine"] = {
            "@type": "EngineSpecification",
            "engineDisplacement": {"@type": "QuantitativeValue", "value": vehicle.engine_size_cc, "unitCode": "CMQ"},
        }
    available = vehicle.status == Vehicle.Status.AVAILABLE
    offer = {
        "@type": "Offer",
        "url": url,
        "availability": "https://schema.org/InStock" if available else "https://schema.org/SoldOut",
        "itemCondition": data["itemCondition"],
        "seller": {"@type": "AutoDealer", "name": dealership.name} if dealership else None,
    }
    price = vehicle.display_price
    if price is not None:  # price on application: an Offer without a price, never a price of 0
        offer["price"] = _number(price)
        offer["priceCurrency"] = get_setting("SHOWROOM_CURRENCY")
    data["offers"] = {key: value for key, value in offer.items() if value is not None}
    return {key: value for key, value in data.items() if value is not None}


def vehicle_meta_description(vehicle, dealership=None):
    """A search-result snippet: the short description if there is one, else the key facts."""
    if vehicle.short_description:
        return Truncator(vehicle.short_description).chars(160)
    facts = [vehicle.title]
    if vehicle.odometer is not None:
        facts.append(f"{vehicle.odometer:,} {_('mi') if vehicle.odometer_in_miles else _('km')}")
    facts += [v for v in (vehicle.gear_type, vehicle.fuel_type, vehicle.body) if v]
    price = vehicle.display_price
    facts.append(f"${price:,.0f}" if price is not None else _("Price on application"))
    text = ", ".join(str(f) for f in facts)
    if dealership is not None:
        text = _("%(facts)s at %(dealership)s.") % {"facts": text, "dealership": dealership.name}
    if vehicle.description:
        text = f"{text} {vehicle.description}"
    return Truncator(" ".join(text.split())).chars(160)
