"""Which vehicles the public may see, and how to fetch them with a fixed number of queries.

A vehicle is *listed* while it is available. A sold or unlisted vehicle stays reachable by its
detail URL for ``SOLD_GRACE_DAYS`` (it shows "this vehicle has been sold"), then its URL
redirects to the listing. Every query here is scoped to one dealership.
"""

from datetime import timedelta

from django.db.models import F, Prefetch, Q, Window
from django.db.models.functions import Abs, Coalesce, RowNumber
from django.utils import timezone
from wagtail.images import get_image_model

from ..conf import get_setting
from ..models import Vehicle, VehicleImage

# Large text and JSON columns the listing never shows.
LISTING_DEFERRED_FIELDS = ("description", "easycars_raw_data", "features", "locked_fields")


def with_effective_price(queryset):
    """Annotate ``effective_price``: the special price when there is one, else the price (null = on application)."""
    return queryset.annotate(effective_price=Coalesce(F("special_price"), F("price")))


def listed_vehicles(dealership):
    """The dealership's vehicles shown in listings: available ones only."""
    if dealership is None:
        return Vehicle.objects.none()
    return with_effective_price(Vehicle.objects.filter(dealership=dealership, status=Vehicle.Status.AVAILABLE))


def grace_cutoff(now=None):
    return (now or timezone.now()) - timedelta(days=get_setting("SOLD_GRACE_DAYS"))


def is_within_grace(vehicle, now=None):
    """Whether a sold or unlisted vehicle's page still shows (rather than redirecting to the listing)."""
    changed = vehicle.status_changed_at or vehicle.updated_at
    return changed is not None and changed >= grace_cutoff(now)


def public_vehicles(dealership, now=None):
    """Vehicles whose detail page answers: listed ones plus sold/unlisted ones within the grace period.

    The headless API uses it so that an app can keep showing a vehicle it has just opened.
    """
    if dealership is None:
        return Vehicle.objects.none()
    cutoff = grace_cutoff(now)
    in_grace = Q(status_changed_at__gte=cutoff) | Q(status_changed_at__isnull=True, updated_at__gte=cutoff)
    return with_effective_price(
        Vehicle.objects.filter(dealership=dealership).filter(Q(status=Vehicle.Status.AVAILABLE) | in_grace)
    )


def photos_prefetch(*rendition_specs, primary_only=False, to_attr="photos"):
    """Prefetch a vehicle's displayable photos with their images and the renditions a template will ask for.

    Three queries for any number of vehicles: photos, images, renditions. With ``primary_only`` each
    vehicle gets only its first photo.
    """
    images = get_image_model().objects.prefetch_renditions(*rendition_specs)
    photos = (
        VehicleImage.objects.filter(Q(image__isnull=False) | ~Q(external_url=""))
        .order_by("sort_order", "pk")
        .prefetch_related(Prefetch("image", queryset=images))
    )
    if primary_only:
        # modelcluster's related manager cannot prefetch a sliced queryset; a window function can.
        first = Window(RowNumber(), partition_by=F("vehicle_id"), order_by=[F("sort_order").asc(), F("pk").asc()])
        photos = photos.annotate(position=first).filter(position=1)
    return Prefetch("images", queryset=photos, to_attr=to_attr)


def similar_vehicles(vehicle, *, limit=4, rendition_specs=()):
    """Listed vehicles like ``vehicle``: same make or body type, closest in price first."""
    candidates = listed_vehicles(vehicle.dealership).exclude(pk=vehicle.pk)
    likeness = Q()
    if vehicle.make:
        likeness |= Q(make__iexact=vehicle.make)
    if vehicle.body:
        likeness |= Q(body__iexact=vehicle.body)
    if likeness:
        candidates = candidates.filter(likeness)
    reference = vehicle.display_price
    if reference is not None:
        candidates = candidates.annotate(price_gap=Abs(F("effective_price") - reference)).order_by(
            F("price_gap").asc(nulls_last=True), "-created_at"
        )
    return list(
        candidates.defer(*LISTING_DEFERRED_FIELDS).prefetch_related(
            photos_prefetch(*rendition_specs, primary_only=True)
        )[:limit]
    )
