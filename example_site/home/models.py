"""The example site's pages."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from wagtail_easycars.showroom.pages import VehicleListingPageMixin


class HomePage(Page):
    intro = models.CharField(max_length=255, blank=True, help_text="One line under the dealership's name.")
    body = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]


class VehicleListingPage(VehicleListingPageMixin, Page):
    """The dealership's stock: listing, vehicle pages and enquiries come from wagtail-easycars."""

    showroom_base_template = "home/showroom_base.html"
    show_in_menus_default = True
    content_panels = Page.content_panels + VehicleListingPageMixin.showroom_panels
