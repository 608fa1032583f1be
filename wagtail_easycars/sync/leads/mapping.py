"""Lead field values <-> EasyCars LeadService payloads (pure functions, no database access).

A lead is described by a plain dict of its local field values (:func:`lead_values`), with the
package's word choices ("hot", "test_drive"); this module turns those into the contract's
integers (docs/easycars-api.md#lead-enumerations) and nested ``LeadCustomer``
(docs/easycars-api.md#customermodel), and a GetLeadDetail answer back into local values.
``Lead.synced_values`` stores the dict EasyCars last acknowledged, so an update
carries only what changed (and ``Lead.unsendable_fields`` what it could not take).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from ...client.contract import (
    STOCK_TYPE_TO_VEHICLE_TYPE,
    CreateLeadRequest,
    FinanceStatus,
    LeadCustomer,
    LeadStatus,
    Rating,
    StockType,
    UpdateLeadRequest,
    VehicleInterest,
    VehicleType,
)

VEHICLE_INTEREST = {
    "buy": VehicleInterest.BUY,
    "lease": VehicleInterest.LEASE,
    "sell": VehicleInterest.SELL,
    "test_drive": VehicleInterest.TEST_DRIVE,
    "service": VehicleInterest.SERVICE,
}
FINANCE_STATUS = {"yes": FinanceStatus.YES, "no": FinanceStatus.NO, "maybe": FinanceStatus.MAYBE}
RATING = {"cold": Rating.COLD, "warm": Rating.WARM, "hot": Rating.HOT}
LEAD_STATUS = {
    "new": LeadStatus.NEW,
    "in_progress": LeadStatus.IN_PROGRESS,
    "won": LeadStatus.WON,
    "lost": LeadStatus.LOST,
    "deleted": LeadStatus.DELETED,
}
_WORDS = {
    "vehicle_interest": {int(v): k for k, v in VEHICLE_INTEREST.items()},
    "finance_status": {int(v): k for k, v in FINANCE_STATUS.items()},
    "rating": {int(v): k for k, v in RATING.items()},
}

#: Local customer fields -> CustomerModel attributes (LeadCustomer).
CUSTOMER_FIELDS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "mobile": "mobile",
    "address": "address",
    "city": "city",
    "state": "state",
    "postcode": "post_code",
}
#: The lead's own fields that EasyCars keeps and UpdateLead can change. Changes to any of them
#: on a lead already in EasyCars make it pending again (see sync/outbox.py).
SYNCED_FIELDS = ("status", "message", "vehicle_interest", "finance_status", "rating", *CUSTOMER_FIELDS)
#: GetLeadDetail key -> local field, for the values a refresh applies (LeadStatus is never returned).
DETAIL_FIELDS = {
    "customer_name": "name",
    "customer_email": "email",
    "customer_phone": "phone",
    "customer_mobile": "mobile",
    "customer_address": "address",
    "customer_city": "city",
    "customer_state": "state",
    "customer_post_code": "postcode",
}


class LeadMappingError(ValueError):
    """The lead cannot be expressed as a valid EasyCars request; the message tells an editor why."""


class MissingCustomerIdentity(LeadMappingError):
    """Neither Name+Email nor a CustomerNo: the customer must be found (by phone) or given an email."""


@dataclass(frozen=True)
class VehicleFacts:
    """What a CreateLead needs to know about the vehicle of interest."""

    make: str
    model: str
    year: int | None
    price: Decimal | None
    #: ``Vehicle.stock_type`` letter (A, B, C, H, M, T); blank means a car.
    stock_type: str = "A"
    #: ``Vehicle.condition``: new, used or demo.
    condition: str = "used"
    #: ``IsUsed`` from the EasyCars feed when the vehicle came from EasyCars, else ``None``.
    is_used: bool | None = None
    #: Only for vehicles that came from EasyCars.
    stock_number: str | None = None
    public_url: str | None = None


def lead_values(lead):
    """The synced fields of a Lead (or any object with those attributes) as a plain dict."""
    return {name: getattr(lead, name) or "" for name in SYNCED_FIELDS}


def vehicle_facts(vehicle, public_url=None):
    """:class:`VehicleFacts` from a Vehicle instance (``None`` when the lead has no vehicle)."""
    if vehicle is None:
        return None
    raw = vehicle.easycars_raw_data if isinstance(vehicle.easycars_raw_data, dict) else {}
    from_easycars = vehicle.data_source == "easycars" and bool(vehicle.easycars_stock_number)
    is_used = raw.get("IsUsed") if from_easycars and isinstance(raw.get("IsUsed"), bool) else None
    price = vehicle.special_price if vehicle.special_price is not None else vehicle.price
    return VehicleFacts(
        make=vehicle.make,
        model=vehicle.model,
        year=vehicle.year,
        price=price,
        stock_type=vehicle.stock_type or StockType.CAR,
        condition=vehicle.condition,
        is_used=is_used,
        stock_number=vehicle.easycars_stock_number if from_easycars else None,
        public_url=public_url or None,
    )


def vehicle_type(stock_type):
    """The lead ``VehicleType`` for a StockType letter (derived mapping, docs/easycars-api.md#stocktype-codes)."""
    try:
        return STOCK_TYPE_TO_VEHICLE_TYPE[StockType((stock_type or "A").upper())]
    except ValueError:
        raise LeadMappingError(
            _("Unknown vehicle kind %(kind)s: expected one of A, B, C, H, M, T.") % {"kind": repr(stock_type)}
        ) from None


def is_vehicle_new(facts):
    """EasyCars' own ``IsUsed`` wins; otherwise only a vehicle sold as new is new (demos are used)."""
    if facts.is_used is not None:
        return not facts.is_used
    return facts.condition == "new"


def build_customer(values, *, customer_no=""):
    """The nested LeadCustomer: Name and Email (and the known details), or an existing CustomerNo.

    Sending both is avoided because EasyCars does not document which one wins.
    """
    if values.get("name", "").strip() and values.get("email", "").strip():
        return LeadCustomer(**{attr: values.get(field, "") for field, attr in CUSTOMER_FIELDS.items()})
    if customer_no:
        return LeadCustomer(customer_no=customer_no)
    raise MissingCustomerIdentity(
        _("EasyCars needs the customer's name and email address (or an existing EasyCars customer number).")
    )


def _enum(mapping, word, label):
    if not word:
        return None
    try:
        return mapping[word]
    except KeyError:
        raise LeadMappingError(
            _("%(value)s is not a valid %(label)s.") % {"value": repr(word), "label": label}
        ) from None


def build_create_request(values, facts, *, external_id, customer_no=""):
    """A CreateLeadRequest for a lead that EasyCars has not seen yet."""
    if facts is None:
        raise LeadMappingError(
            _("EasyCars needs the vehicle's make, model and year for every lead: link the lead to a vehicle.")
        )
    missing = [label for label, value in ((_("make"), facts.make), (_("model"), facts.model)) if not value]
    if not facts.year:
        missing.append(_("year"))
    if missing:
        raise LeadMappingError(
            _("EasyCars needs the vehicle's %(missing)s; the linked vehicle has none.")
            % {"missing": ", ".join(missing)}
        )
    _check_lengths({_("vehicle make"): (facts.make, 100), _("vehicle model"): (facts.model, 50)})
    url = facts.public_url if facts.public_url and len(facts.public_url) <= 400 else None
    return CreateLeadRequest(
        vehicle_make=facts.make,
        vehicle_model=facts.model,
        vehicle_type=vehicle_type(facts.stock_type),
        vehicle_year=int(facts.year),
        is_vehicle_new=is_vehicle_new(facts),
        vehicle_interest=_enum(VEHICLE_INTEREST, values.get("vehicle_interest") or "buy", _("interest")),
        customer=build_customer(values, customer_no=customer_no),
        stock_number=facts.stock_number or None,
        vehicle_price=facts.price,
        notes=values.get("message") or None,
        vehicle_source_page_url=url,
        finance_status=_enum(FINANCE_STATUS, values.get("finance_status"), _("finance status")),
        rating=_enum(RATING, values.get("rating"), _("rating")),
        external_id=str(external_id),
    )


def _check_lengths(limits):
    for label, (value, limit) in limits.items():
        if value and len(value) > limit:
            raise LeadMappingError(
                _("The %(label)s is longer than the %(limit)s characters EasyCars accepts.")
                % {"label": label, "limit": limit}
            )


@dataclass
class UpdatePlan:
    """What to send for a lead EasyCars already has, and what could not be sent."""

    #: ``None`` when nothing EasyCars can store has changed.
    request: UpdateLeadRequest | None
    #: The synced values once EasyCars accepts the request (unsendable changes stay unsynced).
    values: dict
    #: Changes that were not sent and why, for the editor.
    skipped: list
    #: Local values that cannot be sent ({field: value}); not pending changes while they stay.
    unsendable: dict


def build_update_request(lead_number, old, new):
    """An UpdateLeadRequest with only the fields that differ between ``old`` and ``new`` values.

    A deleted lead is never reactivated (EasyCars forbids it), and enum fields cannot be
    cleared (an explicit null is undocumented): such changes are reported in ``skipped``.
    """
    changed = {field for field in SYNCED_FIELDS if (old.get(field) or "") != (new.get(field) or "")}
    kwargs, skipped, unsendable = {}, [], {}
    acknowledged = {field: old.get(field) or "" for field in SYNCED_FIELDS}
    if "status" in changed:
        if old.get("status") == "deleted":
            skipped.append(_("EasyCars does not allow a deleted lead to become active again; the status was not sent."))
            unsendable["status"] = new.get("status") or ""
        else:
            kwargs["lead_status"] = _enum(LEAD_STATUS, new["status"], _("status"))
            acknowledged["status"] = new["status"]
    for field, mapping, label in (
        ("vehicle_interest", VEHICLE_INTEREST, _("interest")),
        ("finance_status", FINANCE_STATUS, _("finance status")),
        ("rating", RATING, _("rating")),
    ):
        if field not in changed:
            continue
        if not new.get(field):
            skipped.append(_("EasyCars cannot clear a lead's %(label)s; the change was not sent.") % {"label": label})
            unsendable[field] = ""
            continue
        kwargs[field] = _enum(mapping, new[field], label)
        acknowledged[field] = new[field]
    if "message" in changed:
        # "" clears the notes; None would mean "unchanged".
        kwargs["notes"] = new.get("message") or ""
        acknowledged["message"] = new.get("message") or ""
    customer_changed = [field for field in CUSTOMER_FIELDS if field in changed]
    if customer_changed:
        # The CustomerModel rule needs Name+Email in every LeadCustomer; send them with what changed.
        details = {field: new.get(field) or "" for field in ("name", "email", *customer_changed)}
        kwargs["customer"] = build_customer(details)
        acknowledged.update({field: new.get(field) or "" for field in CUSTOMER_FIELDS if field in details})
    request = UpdateLeadRequest(lead_number=lead_number, **kwargs) if kwargs else None
    return UpdatePlan(request=request, values=acknowledged, skipped=skipped, unsendable=unsendable)


def unsynced_fields(values, synced, unsendable=None):
    """The fields whose local value differs from what EasyCars acknowledged (and can be sent).

    ``unsendable`` ({field: value}, ``Lead.unsendable_fields``) holds values EasyCars could not
    take: while a field keeps that value it is not a pending change.
    """
    held = unsendable or {}
    return [
        field
        for field in SYNCED_FIELDS
        if (values.get(field) or "") != (synced.get(field) or "")
        and (field not in held or (values.get(field) or "") != held[field])
    ]


def detail_values(detail):
    """Local field values from a GetLeadDetail answer.

    Only what EasyCars actually returned: ``Notes`` of ``null`` and unknown enum numbers are
    left out rather than guessed, and there is never a status (GetLeadDetail has none).
    """
    values = {field: getattr(detail, key) or "" for key, field in DETAIL_FIELDS.items()}
    if detail.notes is not None:
        values["message"] = detail.notes
    for field in ("vehicle_interest", "finance_status", "rating"):
        number = getattr(detail, field)
        if number is not None and int(number) in _WORDS[field]:
            values[field] = _WORDS[field][int(number)]
    if detail.customer_no:
        values["easycars_customer_no"] = detail.customer_no
    return values


__all__ = [
    "SYNCED_FIELDS",
    "LeadMappingError",
    "MissingCustomerIdentity",
    "UpdatePlan",
    "VehicleFacts",
    "VehicleType",
    "build_create_request",
    "build_customer",
    "build_update_request",
    "detail_values",
    "is_vehicle_new",
    "lead_values",
    "unsynced_fields",
    "vehicle_facts",
    "vehicle_type",
]
