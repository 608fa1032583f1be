"""The public showroom: a vehicle listing page (as a page mixin), vehicle pages, enquiries and an API endpoint.

Modules: ``pages`` (``VehicleListingPageMixin``), ``filters``, ``forms`` (enquiries), ``queries``
(what the public may see), ``photos``, ``structured_data`` (JSON-LD), ``api`` (``VehiclesAPIViewSet``)
and ``lookup`` (the public URL of a vehicle).
"""


def vehicle_public_url(vehicle):
    """The absolute URL of ``vehicle`` on its dealership's live listing page, or None when there is none.

    The lead push sends it to EasyCars as ``VehicleSourcePageURL`` (see ``VEHICLE_URL_FUNCTION``).
    """
    from .lookup import vehicle_public_url as lookup

    return lookup(vehicle)
