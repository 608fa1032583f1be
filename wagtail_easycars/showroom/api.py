"""``VehiclesAPIViewSet``: the showroom's vehicles as a Wagtail API v2 endpoint, for headless sites.

Register it on your API router::

    api_router.register_endpoint("vehicles", VehiclesAPIViewSet)

The same rules as the listing page apply: only public vehicles (the listing shows available ones;
a sold or unlisted vehicle's detail stays reachable during the grace period), one dealership per
request (``?dealership=<slug>``, else the dealership linked to the request's Site), and the same
filters and sort orders (``?make=Mazda&price_max=30000&sort=price_asc``).
"""

import logging

from django.http import Http404
from rest_framework import serializers
from rest_framework.response import Response
from wagtail.api import APIField
from wagtail.api.v2.utils import BadRequestError
from wagtail.api.v2.views import BaseAPIViewSet
from wagtail.models import Site

from ..models import Dealership, Vehicle
from .filters import VehicleFilterSet
from .photos import photo_source
from .queries import listed_vehicles, photos_prefetch, public_vehicles

#: Django's logger of failed requests: a site's error reporting still hears of an unexpected error.
request_logger = logging.getLogger("django.request")


class PhotosField(serializers.Field):
    """``[{"url", "width", "height", "alt"}, ...]`` at the endpoint's ``photo_spec``, absolute URLs."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, vehicle):
        view, request = self.context["view"], self.context["request"]
        data = []
        for photo in vehicle.photos:
            source = photo_source(photo, view.photo_spec)
            if source is not None:
                data.append(
                    {
                        "url": request.build_absolute_uri(source.url),
                        "width": source.width,
                        "height": source.height,
                        "alt": photo.alt_text or vehicle.title,
                    }
                )
        return data


class SellerField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(source="dealership", read_only=True, **kwargs)

    def to_representation(self, dealership):
        return {"name": dealership.name, "slug": dealership.slug}


class HtmlUrlField(serializers.Field):
    """The vehicle's page on the dealership's listing page (None when there is no listing page)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, vehicle):
        return self.context["view"].get_vehicle_html_url(vehicle)


class PriceOnApplicationField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, vehicle):
        return vehicle.display_price is None


class VehiclesAPIViewSet(BaseAPIViewSet):
    model = Vehicle
    name = "vehicles"
    filterset_class = VehicleFilterSet
    #: Rendition spec of the photo URLs (prefetched with the vehicles).
    photo_spec = "max-1280x960"

    body_fields = [
        "id",
        "title",
        "make",
        "model",
        "badge",
        "series",
        "year",
        "condition",
        "status",
        "price",
        "special_price",
        "display_price",
        APIField("price_on_application", serializer=PriceOnApplicationField()),
        "is_drive_away",
        "is_special",
        "odometer",
        "odometer_in_miles",
        "body",
        "fuel_type",
        "gear_type",
        "gear_count",
        "engine_capacity",
        "engine_size_cc",
        "cylinders",
        "power_kw",
        "doors",
        "seats",
        "drive_train",
        "exterior_colour",
        "interior_colour",
        "rego_number",
        "rego_state",
        "vin",
        "location",
        "short_description",
        "description",
        "features",
        APIField("photos", serializer=PhotosField()),
        APIField("seller", serializer=SellerField()),
        "created_at",
    ]
    meta_fields = BaseAPIViewSet.meta_fields + [APIField("html_url", serializer=HtmlUrlField())]
    listing_default_fields = BaseAPIViewSet.listing_default_fields + [
        "html_url",
        "title",
        "make",
        "model",
        "year",
        "condition",
        "price",
        "special_price",
        "price_on_application",
        "odometer",
        "body",
        "fuel_type",
        "gear_type",
        "photos",
    ]
    known_query_parameters = frozenset(
        ["limit", "offset", "fields", "_", "format", "dealership", *VehicleFilterSet.base_filters]
    )

    def get_dealership(self):
        """``?dealership=<slug>`` if given, else the dealership linked to the request's Site."""
        if not hasattr(self, "_dealership"):
            slug = self.request.GET.get("dealership")
            if slug:
                dealership = Dealership.objects.filter(slug=slug).first()
                if dealership is None:
                    raise BadRequestError(f"unknown dealership: {slug}")
            else:
                dealership = Dealership.for_site(Site.find_for_request(self.request))
                if dealership is None:
                    raise BadRequestError("this site has no dealership: pass ?dealership=<slug>")
            self._dealership = dealership
        return self._dealership

    def get_queryset(self):
        dealership = self.get_dealership()
        if self.action == "listing_view":
            queryset = listed_vehicles(dealership)
        else:  # a vehicle an app has just shown stays readable (as sold) during the grace period
            queryset = public_vehicles(dealership)
        return queryset.select_related("dealership").prefetch_related(photos_prefetch(self.photo_spec))

    def filter_queryset(self, queryset):
        filterset = self.filterset_class(self.request.GET, queryset=queryset, request=self.request)
        if not filterset.is_valid():
            errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items())
            raise BadRequestError(errors)
        return filterset.qs

    def handle_exception(self, exc):
        """Wagtail's JSON 400 and 404, DRF's JSON errors, and a logged JSON 500 for anything unexpected."""
        try:
            return super().handle_exception(exc)
        except Exception as unexpected:
            request_logger.error(
                "Internal Server Error: %s",
                self.request.path,
                exc_info=(type(unexpected), unexpected, unexpected.__traceback__),
                extra={"status_code": 500, "request": self.request._request},
            )
            return Response({"message": "internal server error"}, status=500)

    def get_object(self):
        try:
            return super().get_object()
        except (ValueError, TypeError):
            raise Http404("not found")

    def get_vehicle_html_url(self, vehicle):
        from .lookup import listing_page_for

        if not hasattr(self, "_listing_page"):
            self._listing_page = listing_page_for(self.get_dealership())
        if self._listing_page is None:
            return None
        return self._listing_page.get_vehicle_url(vehicle, self.request, absolute=True)
