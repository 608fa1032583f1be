"""``VehicleListingPageMixin``: the showroom as page behaviour a site adds to its own page model.

Wagtail 8 makes the base ``Page`` model swappable and asks reusable apps not to subclass it, so
the package ships behaviour (fields, routes, context, templates) and the site defines the page::

    class VehicleListingPage(VehicleListingPageMixin, Page):
        content_panels = Page.content_panels + VehicleListingPageMixin.showroom_panels

Routes: ``/`` the listing, ``/<slug>-<id>/`` a vehicle (GET shows it, POST sends an enquiry).
"""

import logging

from django.core.cache import caches
from django.db import models, transaction
from django.http import Http404, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path, re_path
from wagtail.fields import RichTextField

from ..conf import get_setting
from ..models import Dealership, Vehicle
from .filters import VehicleFilterSet, vehicle_facets
from .forms import EnquiryForm, allow_enquiry
from .pagination import SingleScanPaginator
from .photos import absolute_photo_url
from .queries import LISTING_DEFERRED_FIELDS, is_within_grace, listed_vehicles, photos_prefetch, similar_vehicles
from .structured_data import vehicle_json_ld, vehicle_meta_description

logger = logging.getLogger(__name__)


class VehicleListingPageMixin(RoutablePageMixin, models.Model):
    """A page listing one dealership's public stock, with a detail sub-page and an enquiry form per vehicle."""

    dealership = models.ForeignKey(
        Dealership,
        verbose_name=_("dealership"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Leave empty to show the stock of the dealership linked to this page's site."),
    )
    intro = RichTextField(_("introduction"), blank=True)

    #: Add to the concrete page's ``content_panels``.
    showroom_panels = [FieldPanel("intro"), FieldPanel("dealership")]

    #: Templates: the site's own ``<app>/<page_model>.html`` wins when it exists (see ``get_template``).
    listing_template = "wagtail_easycars/showroom/listing_page.html"
    vehicle_template = "wagtail_easycars/showroom/vehicle_page.html"
    sold_template = "wagtail_easycars/showroom/sold_page.html"
    #: The template the showroom templates extend; point it at an adapter of your site's base template.
    showroom_base_template = "wagtail_easycars/showroom/base.html"

    filterset_class = VehicleFilterSet
    enquiry_form_class = EnquiryForm

    #: Wagtail rendition specs (prefetched, so changing them keeps the query count constant).
    card_photo_spec = "fill-640x480"
    gallery_photo_spec = "max-1280x960"
    thumbnail_spec = "fill-160x120"
    social_image_spec = "fill-1200x630"
    #: How many similar vehicles a sold vehicle's page suggests.
    similar_vehicles_count = 4
    #: The filter menus' values (makes, models, ...) are cached this long; 0 turns the cache off.
    #: Only what the menus offer can be stale: filtering always uses the URL's values as given.
    facets_cache_seconds = 60

    class Meta:
        abstract = True

    # ----- scoping -------------------------------------------------------------------------------

    def get_dealership(self, request=None):
        """The page's chosen dealership, else the one linked to the page's Site (None if neither)."""
        if not hasattr(self, "_easycars_dealership"):
            if self.dealership_id:
                self._easycars_dealership = self.dealership
            else:
                self._easycars_dealership = Dealership.for_site(self.get_site())
        return self._easycars_dealership

    def get_listing_queryset(self, request):
        return listed_vehicles(self.get_dealership(request))

    # ----- templates and context ------------------------------------------------------------------

    def get_template(self, request, *args, **kwargs):
        return [self.template, self.listing_template]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["showroom_base_template"] = self.showroom_base_template
        context["dealership"] = self.get_dealership(request)
        context["listing_url"] = self.get_url(request)
        return context

    def get_listing_context(self, request):
        dealership = self.get_dealership(request)
        base = self.get_listing_queryset(request)
        facets = self.get_facets(dealership, base)
        filterset = self.filterset_class(request.GET or None, queryset=base, facets=facets, request=request)
        vehicles = filterset.qs.defer(*LISTING_DEFERRED_FIELDS).prefetch_related(
            photos_prefetch(self.card_photo_spec, primary_only=True)
        )
        paginator = SingleScanPaginator(vehicles, get_setting("SHOWROOM_PAGE_SIZE"))
        page_obj = paginator.get_page(request.GET.get("page"))
        page_obj.object_list = self.attach_vehicle_urls(page_obj.object_list, request)
        canonical = self.get_full_url(request)
        if page_obj.number > 1:
            canonical = f"{canonical}?page={page_obj.number}"
        return {
            "dealership": dealership,
            "filterset": filterset,
            "filter_form": filterset.form,
            "models_by_make": facets["models_by_make"],
            "is_filtered": filterset.is_filtered,
            "paginator": paginator,
            "page_obj": page_obj,
            "page_range": paginator.get_elided_page_range(page_obj.number, on_each_side=1, on_ends=1),
            "vehicles": page_obj.object_list,
            "result_count": paginator.count,
            "canonical_url": canonical,
            "card_photo_spec": self.card_photo_spec,
        }

    def get_facets(self, dealership, queryset):
        if dealership is None or not self.facets_cache_seconds:
            return vehicle_facets(queryset)
        cache = caches[get_setting("CACHE_ALIAS")]
        # Per page too: a subclass may narrow get_listing_queryset (e.g. cars only).
        key = f"wagtail_easycars:showroom:facets:{self.pk}:{dealership.pk}"
        facets = cache.get(key)
        if facets is None:
            facets = vehicle_facets(queryset)
            cache.set(key, facets, self.facets_cache_seconds)
        return facets

    def get_vehicle_context(self, request, vehicle):
        dealership = self.get_dealership(request)
        url = self.get_vehicle_url(vehicle, request, absolute=True)
        photos = vehicle.photos
        image_urls = [u for u in (absolute_photo_url(p, self.gallery_photo_spec, request) for p in photos) if u]
        social_image = absolute_photo_url(photos[0], self.social_image_spec, request) if photos else None
        return {
            "vehicle": vehicle,
            "photos": photos,
            "primary_photo": photos[0] if photos else None,
            "specs": vehicle_specs(vehicle),
            "features": [str(f) for f in (vehicle.features or []) if f],
            "json_ld": vehicle_json_ld(vehicle, url=url, image_urls=image_urls, dealership=dealership),
            "meta_description": vehicle_meta_description(vehicle, dealership),
            "canonical_url": url,
            "vehicle_url": self.get_vehicle_url(vehicle, request),
            "social_image_url": social_image,
            "gallery_photo_spec": self.gallery_photo_spec,
            "thumbnail_spec": self.thumbnail_spec,
            "card_photo_spec": self.card_photo_spec,
        }

    # ----- URLs -----------------------------------------------------------------------------------

    def get_vehicle_url(self, vehicle, request=None, *, absolute=False):
        base = self.get_full_url(request) if absolute else self.get_url(request)
        return base + self.reverse_subpage("vehicle", kwargs={"slug": vehicle.slug})

    def attach_vehicle_urls(self, vehicles, request):
        """Evaluate ``vehicles`` and give each a ``showroom_url`` (the page URL is looked up once)."""
        base = self.get_url(request)
        vehicles = list(vehicles)
        for vehicle in vehicles:
            vehicle.showroom_url = base + self.reverse_subpage("vehicle", kwargs={"slug": vehicle.slug})
        return vehicles

    # ----- routes ---------------------------------------------------------------------------------

    @path("", name="listing")
    def listing_view(self, request):
        return self.render(request, context_overrides=self.get_listing_context(request))

    @re_path(r"^(?P<slug>(?:[-a-z0-9]*-)?\d+)/$", name="vehicle")
    def vehicle_view(self, request, slug):
        vehicle = self.get_vehicle_or_404(request, int(slug.rsplit("-", 1)[-1]))
        if vehicle.status != Vehicle.Status.AVAILABLE:
            if not is_within_grace(vehicle):
                return HttpResponsePermanentRedirect(self.get_url(request))
            return self.sold_view(request, vehicle)
        if slug != vehicle.slug:
            # Make, model or year changed since the link was shared: send it to the current address.
            return HttpResponsePermanentRedirect(self.get_vehicle_url(vehicle, request))
        form = None
        if request.method == "POST":
            form = self.enquiry_form_class(request.POST, vehicle=vehicle)
            response = self.process_enquiry(request, vehicle, form)
            if response is not None:
                return response
        return self.render(
            request,
            template=self.vehicle_template,
            context_overrides={
                **self.get_vehicle_context(request, vehicle),
                "enquiry_form": form or self.enquiry_form_class(vehicle=vehicle),
                "enquiry_sent": request.GET.get("enquiry") == "sent",
                "rate_limited": getattr(form, "rate_limited", False),
            },
        )

    def sold_view(self, request, vehicle):
        specs = (self.card_photo_spec,)
        response = self.render(
            request,
            template=self.sold_template,
            context_overrides={
                **self.get_vehicle_context(request, vehicle),
                "similar_vehicles": self.attach_vehicle_urls(
                    similar_vehicles(vehicle, limit=self.similar_vehicles_count, rendition_specs=specs), request
                ),
            },
        )
        response["X-Robots-Tag"] = "noindex"
        return response

    def get_vehicle_or_404(self, request, vehicle_id):
        dealership = self.get_dealership(request)
        if dealership is None:
            raise Http404("This page has no dealership.")
        specs = (self.gallery_photo_spec, self.thumbnail_spec, self.social_image_spec)
        vehicle = (
            Vehicle.objects.filter(dealership=dealership, pk=vehicle_id)
            .prefetch_related(photos_prefetch(*specs))
            .first()
        )
        if vehicle is None:
            raise Http404("No such vehicle.")
        return vehicle

    # ----- enquiries ------------------------------------------------------------------------------

    def get_client_ip(self, request):
        """The address rate limits count against. Behind a proxy, override (or set REMOTE_ADDR in middleware)."""
        return request.META.get("REMOTE_ADDR", "")

    def process_enquiry(self, request, vehicle, form):
        """Validate and save an enquiry; a redirect to the confirmation, or None to re-show the form."""
        if not form.is_valid():
            return None
        if not allow_enquiry(self.get_client_ip(request)):
            form.rate_limited = True
            form.add_error(None, _("You have sent several enquiries in the last hour. Please try again later."))
            return None
        if form.is_spam:
            # Look exactly like a success, so the bot learns nothing; nothing is stored.
            logger.info("Enquiry honeypot filled for vehicle %s; discarded", vehicle.pk)
        else:
            with transaction.atomic():
                lead = form.save()
            logger.info("Web enquiry %s saved for vehicle %s", lead.pk, vehicle.pk)
        return HttpResponseRedirect(self.get_vehicle_url(vehicle, request) + "?enquiry=sent#enquiry")


def vehicle_specs(vehicle):
    """(label, value) pairs for every spec the vehicle has, in the order a shopper reads them."""
    from ..templatetags.easycars_showroom import odometer

    transmission = vehicle.gear_type
    if transmission and vehicle.gear_count:
        transmission = _("%(type)s, %(count)s speed") % {"type": transmission, "count": vehicle.gear_count}
    rows = [
        (_("Year"), vehicle.year),
        (_("Make"), vehicle.make),
        (_("Model"), vehicle.model),
        (_("Badge"), vehicle.badge),
        (_("Series"), vehicle.series),
        (_("Condition"), vehicle.get_condition_display()),
        (_("Odometer"), odometer(vehicle)),
        (_("Body type"), vehicle.body),
        (_("Transmission"), transmission),
        (_("Fuel"), vehicle.fuel_type),
        (_("Engine"), vehicle.engine_capacity or (f"{vehicle.engine_size_cc:,} cc" if vehicle.engine_size_cc else "")),
        (_("Cylinders"), vehicle.cylinders),
        (_("Power"), f"{vehicle.power_kw.normalize():f} kW" if vehicle.power_kw is not None else ""),
        (_("Drive"), vehicle.drive_train),
        (_("Doors"), vehicle.doors),
        (_("Seats"), vehicle.seats),
        (_("Exterior colour"), vehicle.exterior_colour),
        (_("Interior colour"), vehicle.interior_colour),
        (_("Registration"), " ".join(p for p in (vehicle.rego_number, vehicle.rego_state) if p)),
        (_("Registration expiry"), vehicle.rego_expiry),
        (_("VIN"), vehicle.vin),
        (_("Stock number"), vehicle.easycars_stock_number),
        (_("Location"), vehicle.location),
    ]
    return [(label, value) for label, value in rows if value not in (None, "")]
