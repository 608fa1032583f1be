"""Models of a site that uses the package, as a site developer would write them."""

from wagtail.models import Page

from wagtail_easycars.showroom.pages import VehicleListingPageMixin


class VehicleListingPage(VehicleListingPageMixin, Page):
    content_panels = Page.content_panels + VehicleListingPageMixin.showroom_panels
