"""Template helpers for the showroom: photos (Wagtail or Cloudinary), prices, odometers and JSON-LD.

Load with ``{% load easycars_showroom %}``.
"""

import json
from decimal import Decimal

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ..showroom.photos import photo_img

register = template.Library()

# The same escapes as Django's json_script: nothing in the data can close the <script> element.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag
def vehicle_photo(photo, spec, alt="", loading="lazy", **attrs):
    """``{% vehicle_photo photo "fill-640x480" alt=vehicle.title class="card__img" %}``"""
    if not photo:
        return ""
    return photo_img(photo, spec, alt=photo.alt_text or alt, loading=loading, **attrs)


@register.filter
def money(value):
    """``45990`` → ``$45,990``; ``45990.50`` → ``$45,990.50``; None → empty (the caller says "Price on application")."""
    if value in (None, ""):
        return ""
    value = Decimal(value)
    places = 0 if value == value.to_integral_value() else 2
    return f"${value:,.{places}f}"


@register.filter
def odometer(vehicle):
    """``45,000 km`` (or ``mi`` when the vehicle's odometer reads miles); empty when unknown."""
    if vehicle.odometer is None:
        return ""
    unit = _("mi") if vehicle.odometer_in_miles else _("km")
    return f"{vehicle.odometer:,} {unit}"  # digits, commas and a translated unit: nothing to escape


@register.simple_tag
def json_ld(data):
    """A ``<script type="application/ld+json">`` element whose content cannot break out of the element."""
    payload = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(JSON_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{payload}</script>')  # noqa: S308 - escaped above
