"""Find the listing page that shows a dealership's vehicles, from outside a request."""

from wagtail.models import get_page_models

from ..models import Vehicle
from .pages import VehicleListingPageMixin


def listing_page_models():
    return [
        model for model in get_page_models() if issubclass(model, VehicleListingPageMixin) and not model._meta.abstract
    ]


def listing_page_for(dealership):
    """The live listing page for ``dealership``: one that names it, else one on the dealership's Site."""
    for model in listing_page_models():
        page = model.objects.live().filter(dealership=dealership).order_by("path").first()
        if page is not None:
            return page
    site = dealership.site
    if site is None:
        return None
    for model in listing_page_models():
        page = (
            model.objects.live()
            .descendant_of(site.root_page, inclusive=True)
            .filter(dealership__isnull=True)
            .order_by("path")
            .first()
        )
        if page is not None:
            return page
    return None


def vehicle_public_url(vehicle):
    """The absolute URL of a listed vehicle's page, or None (no listing page, or the vehicle is not listed)."""
    if vehicle is None or vehicle.pk is None or vehicle.status != Vehicle.Status.AVAILABLE:
        return None
    page = listing_page_for(vehicle.dealership)
    if page is None:
        return None
    base = page.get_full_url()
    if not base:
        return None
    return page.get_vehicle_url(vehicle, absolute=True)
