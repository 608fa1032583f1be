"""The Vehicles snippet: listing with EasyCars metadata, inspect view, edit form and sync extras."""

from django import forms
from django.db.models import Q
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.widgets.button import Button
from wagtail.snippets.views.snippets import SnippetViewSet

from ..models import FieldChange, Vehicle
from . import conflicts, vehicle_history
from .access import gallery_images_for
from .filters import VehicleFilterSet, open_conflicts, open_duplicates
from .scoping import DealershipScopedForm, DealershipScopedViewSetMixin
from .scoping import InspectView as ScopedInspectView
from .vehicle_history import describe_source, field_label, format_money, format_value


class VehicleForm(DealershipScopedForm):
    """The vehicle, and its gallery: a photo must be an image the editor may use for its dealership."""

    def clean(self):
        cleaned_data = super().clean()
        dealership = cleaned_data.get("dealership")
        if dealership is not None and self.for_user is not None and "images" in self.formsets:
            self.check_gallery(dealership)
        return cleaned_data

    def check_gallery(self, dealership):
        """A form error on each photo whose image is not one of ``access.gallery_images_for``."""
        photos = [form for form in self.formsets["images"].forms if photo_image(form) is not None]
        if not photos:
            return
        allowed = set(
            gallery_images_for(self.for_user, dealership, self.instance)
            .filter(pk__in=[photo_image(form).pk for form in photos])
            .values_list("pk", flat=True)
        )
        for form in photos:
            if photo_image(form).pk not in allowed:
                form.add_error(
                    "image",
                    forms.ValidationError(
                        _("Choose one of your images for %(dealership)s: this one is not available to it."),
                        params={"dealership": dealership},
                        code="image_not_allowed",
                    ),
                )


def photo_image(form):
    """The image a gallery row would save (None for an empty or deleted row, or one with errors)."""
    if not form.is_valid() or form.cleaned_data.get("DELETE"):
        return None
    return form.cleaned_data.get("image")


def locked_fields_label(vehicle):
    count = len(vehicle.locked_fields or [])
    if not count:
        return ""
    return ngettext("%(count)d locked", "%(count)d locked", count) % {"count": count}


def price_label(vehicle):
    """The advertised price; no price is "POA" (price on application), as on the site."""
    return format_money(vehicle.display_price, empty=gettext("POA"))


class LockedFieldsColumn(StatusTagColumn):
    """A badge such as "2 locked" (the field names in its tooltip); empty when nothing is locked."""

    cell_template_name = "wagtail_easycars/admin/tables/locked_fields_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["locked_fields"] = [field_label(Vehicle, name) for name in instance.locked_fields or []]
        return context


class VehicleInspectView(ScopedInspectView):
    template_name = "wagtail_easycars/admin/vehicles/inspect.html"
    field_history_url_name = None
    conflict_resolve_url_name = None
    duplicates_url_name = None
    unlock_url_name = None

    def get_locked_fields_display_value(self):
        return ", ".join(field_label(Vehicle, name) for name in self.object.locked_fields or []) or "–"

    def get_price_display_value(self):
        return format_money(self.object.price, empty=gettext("Price on application"))

    def get_special_price_display_value(self):
        return format_money(self.object.special_price, empty="–")

    def get_features_display_value(self):
        return format_value(self.object.features)

    @cached_property
    def header_more_buttons(self):
        buttons = super().header_more_buttons
        buttons.append(
            Button(
                _("Field history"),
                url=reverse(self.field_history_url_name, args=[self.object.pk]),
                icon_name="history",
                priority=30,
            )
        )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        vehicle = self.object
        context["open_conflicts"] = [
            {
                "conflict": conflict,
                "label": field_label(Vehicle, conflict.field),
                "local": format_value(conflict.local_value, conflict.field),
                "easycars": format_value(conflict.easycars_value, conflict.field),
                "resolve_url": reverse(self.conflict_resolve_url_name, args=[conflict.pk]),
            }
            for conflict in open_conflicts().filter(vehicle=vehicle).order_by("field")
        ]
        context["recent_changes"] = [
            {
                "change": change,
                "label": field_label(Vehicle, change.field),
                "old": format_value(change.old_value, change.field),
                "new": format_value(change.new_value, change.field),
                "changed_by": describe_source(change),
            }
            for change in FieldChange.objects.filter(vehicle=vehicle).select_related("user")[:10]
        ]
        context["duplicates"] = (
            open_duplicates()
            .filter(Q(manual_vehicle=vehicle) | Q(easycars_vehicle=vehicle))
            .select_related("manual_vehicle", "easycars_vehicle")
        )
        conflicted = {item["conflict"].field for item in context["open_conflicts"]}
        context["locks"] = [
            {"field": name, "label": field_label(Vehicle, name), "unlockable": name not in conflicted}
            for name in vehicle.locked_fields or []
        ]
        context["unlock_url"] = reverse(self.unlock_url_name, args=[vehicle.pk])
        context["duplicates_url"] = reverse(self.duplicates_url_name)
        context["field_history_url"] = reverse(self.field_history_url_name, args=[vehicle.pk])
        context["can_resolve"] = self.user_has_permission("change")
        return context


class VehicleViewSet(DealershipScopedViewSetMixin, SnippetViewSet):
    model = Vehicle
    icon = "tag"
    menu_label = _("Vehicles")
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_class = VehicleInspectView
    filterset_class = VehicleFilterSet
    # Database lookups, not the Wagtail search index: the stock sync writes in bulk (no save()
    # signals), so an index would lag behind the feed; these lookups are always current.
    search_backend_name = None
    search_fields = ["title", "make", "model", "badge", "vin", "rego_number", "easycars_stock_number"]
    list_per_page = 50
    list_display = [
        "title",
        Column("dealership", label=_("Dealership"), sort_key="dealership__name"),
        Column("easycars_stock_number", label=_("Stock no."), sort_key="easycars_stock_number"),
        Column("price", accessor=price_label, label=_("Price"), sort_key="price"),
        StatusTagColumn("status", accessor="get_status_display", label=_("Status"), sort_key="status", primary=False),
        Column("data_source", accessor="get_data_source_display", label=_("Source"), sort_key="data_source"),
        DateColumn("last_synced_from_easycars", label=_("Last synced"), sort_key="last_synced_from_easycars"),
        LockedFieldsColumn("locked_fields", accessor=locked_fields_label, label=_("Locks")),
    ]
    list_export = [
        "dealership",
        "easycars_stock_number",
        "title",
        "make",
        "model",
        "badge",
        "year",
        "price",
        "special_price",
        "odometer",
        "condition",
        "status",
        "vin",
        "rego_number",
        "data_source",
        "last_synced_from_easycars",
        "locked_fields",
    ]
    export_filename = "vehicles"
    inspect_view_fields = [
        "dealership",
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
        "odometer",
        "vin",
        "rego_number",
        "body",
        "fuel_type",
        "gear_type",
        "exterior_colour",
        "features",
        "data_source",
        "easycars_stock_number",
        "easycars_yard_code",
        "last_synced_from_easycars",
        "locked_fields",
        "created_at",
        "updated_at",
    ]

    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    # A plain select: editors belong to few dealerships, and the choices are already theirs only.
                    FieldPanel("dealership", widget=forms.Select),
                    FieldPanel("title"),
                    FieldRowPanel([FieldPanel("make"), FieldPanel("model"), FieldPanel("badge")]),
                    FieldRowPanel([FieldPanel("series"), FieldPanel("year"), FieldPanel("stock_type")]),
                    FieldRowPanel([FieldPanel("condition"), FieldPanel("status")]),
                    MultiFieldPanel(
                        [
                            FieldRowPanel([FieldPanel("price"), FieldPanel("special_price")]),
                            FieldRowPanel(
                                [FieldPanel("is_drive_away"), FieldPanel("is_special"), FieldPanel("is_prestige")]
                            ),
                        ],
                        heading=_("Price"),
                    ),
                    FieldPanel("short_description"),
                    FieldPanel("description"),
                ],
                heading=_("Vehicle"),
            ),
            ObjectList(
                [
                    FieldRowPanel([FieldPanel("odometer"), FieldPanel("odometer_in_miles")]),
                    FieldRowPanel([FieldPanel("body"), FieldPanel("doors"), FieldPanel("seats")]),
                    FieldRowPanel([FieldPanel("exterior_colour"), FieldPanel("interior_colour")]),
                    FieldRowPanel([FieldPanel("fuel_type"), FieldPanel("gear_type"), FieldPanel("gear_count")]),
                    FieldRowPanel(
                        [FieldPanel("engine_capacity"), FieldPanel("engine_size_cc"), FieldPanel("cylinders")]
                    ),
                    FieldRowPanel([FieldPanel("power_kw"), FieldPanel("drive_train")]),
                    FieldRowPanel([FieldPanel("rego_number"), FieldPanel("rego_state"), FieldPanel("rego_expiry")]),
                    FieldPanel("vin"),
                    FieldPanel("features"),
                    FieldPanel("video_url"),
                    FieldPanel("location"),
                ],
                heading=_("Details"),
            ),
            ObjectList([InlinePanel("images", heading=_("Photos"), label=_("Photo"))], heading=_("Photos")),
            ObjectList(
                [
                    FieldPanel("data_source", read_only=True),
                    FieldPanel("easycars_stock_number", read_only=True),
                    FieldPanel("easycars_yard_code", read_only=True),
                    FieldPanel("last_synced_from_easycars", read_only=True),
                    FieldPanel("locked_fields", read_only=True),
                ],
                heading=_("EasyCars"),
            ),
        ],
        base_form_class=VehicleForm,
    )

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            field_history_url_name=self.get_url_name("field_history"),
            conflict_resolve_url_name=self.get_url_name("conflict_resolve"),
            duplicates_url_name=self.get_url_name("duplicates"),
            unlock_url_name=self.get_url_name("unlock_field"),
            **kwargs,
        )

    def get_extra_view_kwargs(self):
        return {
            "breadcrumbs_items": self.breadcrumbs_items,
            "index_url_name": self.get_url_name("list"),
            "edit_url_name": self.get_url_name("edit"),
            "inspect_url_name": self.get_url_name("inspect"),
            "header_icon": self.icon,
        }

    def get_urlpatterns(self):
        extra = self.get_extra_view_kwargs()
        names = {
            "conflicts_url_name": self.get_url_name("conflicts"),
            "conflict_resolve_url_name": self.get_url_name("conflict_resolve"),
            "duplicates_url_name": self.get_url_name("duplicates"),
            "duplicate_resolve_url_name": self.get_url_name("duplicate_resolve"),
        }
        return super().get_urlpatterns() + [
            path(
                "field-history/<int:pk>/",
                vehicle_history.VehicleFieldHistoryView.as_view(
                    **extra, field_history_url_name=self.get_url_name("field_history")
                ),
                name="field_history",
            ),
            path(
                "conflicts/",
                conflicts.ConflictIndexView.as_view(**extra, **names),
                name="conflicts",
            ),
            path(
                "conflicts/results/",
                conflicts.ConflictIndexView.as_view(**extra, **names, results_only=True),
                name="conflicts_results",
            ),
            path(
                "conflicts/<int:pk>/resolve/",
                conflicts.ResolveConflictView.as_view(**extra, **names),
                name="conflict_resolve",
            ),
            path(
                "unlock/<int:pk>/",
                conflicts.UnlockFieldView.as_view(**extra, **names),
                name="unlock_field",
            ),
            path(
                "duplicates/",
                conflicts.DuplicateIndexView.as_view(**extra, **names),
                name="duplicates",
            ),
            path(
                "duplicates/results/",
                conflicts.DuplicateIndexView.as_view(**extra, **names, results_only=True),
                name="duplicates_results",
            ),
            path(
                "duplicates/<int:pk>/resolve/",
                conflicts.ResolveDuplicateView.as_view(**extra, **names),
                name="duplicate_resolve",
            ),
        ]
