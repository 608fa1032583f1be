"""Request validation with the required keys, maximum lengths and enum ranges of docs/easycars-api.md.

Every failure raises :class:`Invalid`, answered as Code 7 with the message.
"""

import datetime as dt

from ..client.contract import (
    ACCOUNT_NUMBER_MAX_LENGTH,
    ACCOUNT_SECRET_MAX_LENGTH,
    CUSTOMER_MAX_LENGTHS,
    ExtraType,
    FinanceStatus,
    LeadStatus,
    PaymentMethod,
    Rating,
    VehicleInterest,
    VehicleType,
)

VEHICLE_TYPES = tuple(VehicleType)
VEHICLE_INTERESTS = tuple(VehicleInterest)
FINANCE_STATUSES = tuple(FinanceStatus)
RATINGS = tuple(Rating)
LEAD_STATUSES = tuple(LeadStatus)
PAYMENT_METHODS = tuple(PaymentMethod)
EXTRA_TYPES = tuple(ExtraType)


class Invalid(Exception):
    pass


def _name(path, key):
    return f"{path}.{key}" if path else key


def _value(body, key, required, path):
    """``body[key]``, or None when it is absent or null; a required key must be there."""
    value = body.get(key)
    if value is None and required:
        raise Invalid(f"{_name(path, key)} is required.")
    return value


def _present(body, key):
    return body.get(key) is not None


def string(body, key, max_length=None, *, required=False, path=""):
    value = _value(body, key, required, path)
    if value is None:
        return None
    name = _name(path, key)
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a string.")
    if required and not value.strip():
        raise Invalid(f"{name} is required.")
    if max_length is not None and len(value) > max_length:
        raise Invalid(f"{name} exceeds {max_length} characters.")
    return value


def integer(body, key, *, required=False, choices=None, path=""):
    value = _value(body, key, required, path)
    if value is None:
        return None
    name = _name(path, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{name} must be an integer.")
    if choices is not None and value not in choices:
        allowed = ", ".join(str(int(choice)) for choice in choices)
        raise Invalid(f"{name} must be one of {allowed}.")
    return value


def number(body, key, *, required=False, path=""):
    value = _value(body, key, required, path)
    if value is None:
        return None
    name = _name(path, key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"{name} must be a number.")
    if value < 0:
        raise Invalid(f"{name} must not be negative.")
    return value


def boolean(body, key, *, required=False, path=""):
    value = _value(body, key, required, path)
    if value is None:
        return None
    name = _name(path, key)
    if not isinstance(value, bool):
        raise Invalid(f"{name} must be true or false.")
    return value


def date(body, key, fmt, *, required=False, path=""):
    value = string(body, key, required=required, path=path)
    if value is not None:
        try:
            dt.datetime.strptime(value, fmt)
        except ValueError:
            shown = fmt.replace("%d", "dd").replace("%m", "MM").replace("%Y", "yyyy").replace("%y", "yy")
            raise Invalid(f"{_name(path, key)} must be a date in {shown} format.")
    return value


def vehicle_year(body, key="VehicleYear", *, required=False, path=""):
    year = integer(body, key, required=required, path=path)
    if year is not None and not 1900 <= year <= dt.date.today().year + 2:
        raise Invalid(f"{_name(path, key)} must be a year between 1900 and {dt.date.today().year + 2}.")
    return year


def obj(body, key, *, required=False, path=""):
    value = _value(body, key, required, path)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Invalid(f"{_name(path, key)} must be an object.")
    return value


def array(body, key, *, path=""):
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise Invalid(f"{_name(path, key)} must be an array of objects.")
    return value


def customer_model(model, path):
    """Check a CustomerModel's keys; the CustomerNo-or-Name+Email rule is checked by the caller."""
    for key, max_length in CUSTOMER_MAX_LENGTHS.items():
        string(model, key, max_length, path=path)


def account_pair(body):
    string(body, "AccountNumber", ACCOUNT_NUMBER_MAX_LENGTH)
    string(body, "AccountSecret", ACCOUNT_SECRET_MAX_LENGTH)
