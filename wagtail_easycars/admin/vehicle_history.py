"""Per-vehicle field history: every change a sync or an editor made, from what to what (incl. price history)."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic.base import BaseListingView
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy

from ..models import FieldChange, Vehicle
from .access import get_scoped_object_or_404

#: Fields whose stored values are amounts of money (kept as decimal text in the JSON).
MONEY_FIELDS = frozenset({"price", "special_price"})


def format_money(amount, empty=""):
    """Dollars as an editor reads them: "$62,990", or "$62,990.50" when there are cents."""
    if amount is None:
        return empty
    digits = 0 if amount == amount.to_integral_value() else 2
    return "$" + number_format(amount, decimal_pos=digits, force_grouping=True)


def format_value(value, field=None):
    """A stored JSON value as an editor reads it: money as dollars, lists joined, nothing as a dash."""
    if value is None or value == "" or value == []:
        return "–"
    if field in MONEY_FIELDS and isinstance(value, (str, int, float)):
        try:
            return format_money(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items())
    return str(value)


def field_label(model, name, *, sentence=False):
    """ "Price", "VIN": the field's verbose name (as is, for use inside a sentence, when ``sentence``),
    or the recorded name for a field since removed from the model."""
    try:
        label = str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name
    return label if sentence else capfirst(label)


def describe_source(change):
    """ "EasyCars sync", or "Editor (Sam Taylor)" when a user made the change."""
    if change.user is None:
        return change.get_source_display()
    name = change.user.get_full_name().strip() or change.user.get_username()
    return f"{change.get_source_display()} ({name})"


class VehicleFieldHistoryView(PermissionCheckedMixin, BaseListingView):
    # Set explicitly: in Wagtail 7.x PermissionCheckedMixin checks nothing without a policy.
    permission_policy = ModelPermissionPolicy(Vehicle)
    any_permission_required = ["add", "change", "delete", "view"]
    page_title = _("Field history")
    header_icon = "history"
    paginate_by = 50
    verbose_name_plural = _("field changes")
    edit_url_name = None
    inspect_url_name = None
    field_history_url_name = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_scoped_object_or_404(Vehicle, request.user, pk=kwargs["pk"])

    @cached_property
    def field_filter(self):
        return self.request.GET.get("field", "").strip()

    def get_base_queryset(self):
        queryset = FieldChange.objects.filter(vehicle=self.object).select_related("user")
        if self.field_filter == "price":
            # "Price history": the advertised price and the special price together.
            return queryset.filter(field__in=["price", "special_price"])
        if self.field_filter:
            return queryset.filter(field=self.field_filter)
        return queryset

    @cached_property
    def columns(self):
        return [
            Column("field", label=_("Field"), accessor=lambda change: field_label(Vehicle, change.field)),
            Column("old_value", label=_("From"), accessor=lambda change: format_value(change.old_value, change.field)),
            Column("new_value", label=_("To"), accessor=lambda change: format_value(change.new_value, change.field)),
            Column("source", label=_("Changed by"), accessor=describe_source),
            DateColumn("changed_at", label=_("Date")),
        ]

    @cached_property
    def header_buttons(self):
        url = reverse(self.field_history_url_name, args=[self.object.pk])
        if self.field_filter:
            return [HeaderButton(_("All changes"), url=url, icon_name="list-ul")]
        return [HeaderButton(_("Price history"), url=f"{url}?field=price", icon_name="history")]

    def get_index_url(self):
        return reverse(self.field_history_url_name, args=[self.object.pk])

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": Vehicle._meta.verbose_name_plural.capitalize()},
            {"url": reverse(self.inspect_url_name, args=[self.object.pk]), "label": str(self.object)},
            {"url": "", "label": self.page_title, "sublabel": str(self.object)},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        return context
