"""Open sync conflicts (keep local / accept EasyCars per field), field locks, and potential duplicates.

The listings are what the dashboard links to for "open conflicts" and "potential duplicates";
the decisions themselves are made by ``wagtail_easycars.sync.stock.conflicts``.
"""

from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import View
from wagtail.admin import messages
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views.generic.base import BaseListingView
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.log_actions import log
from wagtail.permission_policies import ModelPermissionPolicy

from ..models import PotentialDuplicate, Vehicle, VehicleConflict
from ..sync.stock.conflicts import resolve_conflict, resolve_duplicate, unlock_fields
from .access import get_scoped_object_or_404, scope_queryset
from .filters import ConflictFilterSet, DuplicateFilterSet, open_conflicts, open_duplicates
from .vehicle_history import field_label, format_value


class ActionsColumn(Column):
    """POST buttons (a form per row): resolving changes data, so it is never a link."""

    cell_template_name = "wagtail_easycars/admin/tables/resolve_cell.html"

    def __init__(self, name, *, choices, url_name, **kwargs):
        super().__init__(name, **kwargs)
        self.choices = choices
        self.url_name = url_name

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        request = parent_context["request"]
        context.update(
            {
                "action_url": reverse(self.url_name, args=[instance.pk]),
                "choices": self.choices,
                "next_url": request.get_full_path(),
                "csrf_token": parent_context.get("csrf_token"),
            }
        )
        return context


class SyncExtrasMixin:
    """Shared configuration of the conflict and duplicate screens (set by VehicleViewSet.get_urlpatterns)."""

    permission_policy = ModelPermissionPolicy(Vehicle)
    header_icon = "warning"
    edit_url_name = None
    inspect_url_name = None
    conflicts_url_name = None
    conflict_resolve_url_name = None
    duplicates_url_name = None
    duplicate_resolve_url_name = None

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": Vehicle._meta.verbose_name_plural.capitalize()},
            {"url": "", "label": self.get_page_title()},
        ]

    def vehicle_url(self, vehicle):
        return reverse(self.inspect_url_name, args=[vehicle.pk])


class ConflictIndexView(SyncExtrasMixin, PermissionCheckedMixin, BaseListingView):
    any_permission_required = ["change", "view"]
    page_title = _("Open sync conflicts")
    paginate_by = 50
    filterset_class = ConflictFilterSet
    verbose_name_plural = _("open sync conflicts")

    def get_index_url(self):
        return reverse(self.conflicts_url_name)

    def get_index_results_url(self):
        return reverse(f"{self.conflicts_url_name}_results")

    def get_base_queryset(self):
        queryset = open_conflicts().select_related("vehicle", "vehicle__dealership")
        return scope_queryset(queryset, self.request.user, "vehicle__dealership").order_by("vehicle__title", "field")

    @cached_property
    def columns(self):
        columns = [
            TitleColumn("vehicle", label=_("Vehicle"), get_url=lambda conflict: self.vehicle_url(conflict.vehicle)),
            Column("field", label=_("Field"), accessor=lambda conflict: field_label(Vehicle, conflict.field)),
            Column("local_value", label=_("Local value"), accessor=lambda c: format_value(c.local_value, c.field)),
            Column(
                "easycars_value", label=_("EasyCars value"), accessor=lambda c: format_value(c.easycars_value, c.field)
            ),
            DateColumn("updated_at", label=_("Seen")),
        ]
        if self.user_has_permission("change"):
            columns.append(
                ActionsColumn(
                    "resolve",
                    label=_("Resolve"),
                    choices=[
                        (value, VehicleConflict.Resolution(value).label) for value in VehicleConflict.EDITOR_RESOLUTIONS
                    ],
                    url_name=self.conflict_resolve_url_name,
                )
            )
        return columns


class DuplicateIndexView(SyncExtrasMixin, PermissionCheckedMixin, BaseListingView):
    any_permission_required = ["change", "view"]
    page_title = _("Potential duplicates")
    paginate_by = 50
    filterset_class = DuplicateFilterSet
    verbose_name_plural = _("potential duplicates")

    def get_index_url(self):
        return reverse(self.duplicates_url_name)

    def get_index_results_url(self):
        return reverse(f"{self.duplicates_url_name}_results")

    def get_base_queryset(self):
        queryset = open_duplicates().select_related("manual_vehicle", "easycars_vehicle", "dealership")
        return scope_queryset(queryset, self.request.user)

    @cached_property
    def columns(self):
        columns = [
            TitleColumn(
                "manual_vehicle",
                label=_("Manual vehicle"),
                get_url=lambda duplicate: self.vehicle_url(duplicate.manual_vehicle),
            ),
            TitleColumn(
                "easycars_vehicle",
                label=_("EasyCars vehicle"),
                get_url=lambda duplicate: self.vehicle_url(duplicate.easycars_vehicle),
            ),
            Column("reason", label=_("Reason"), accessor="get_reason_display"),
            DateColumn("detected_at", label=_("Detected")),
        ]
        if self.user_has_permission("change"):
            columns.append(
                ActionsColumn(
                    "resolve",
                    label=_("Resolve"),
                    choices=[
                        (PotentialDuplicate.Resolution.MERGED, _("Merge")),
                        (PotentialDuplicate.Resolution.KEPT_SEPARATE, _("Keep separate")),
                    ],
                    url_name=self.duplicate_resolve_url_name,
                )
            )
        return columns


class ResolveView(SyncExtrasMixin, PermissionCheckedMixin, View):
    """POST ``resolution`` to decide one open item; answers with a redirect and a message."""

    http_method_names = ["post"]
    permission_required = "change"
    index_url_name = None
    breadcrumbs_items = []
    model = None
    scope_lookup = None
    resolutions = ()

    def get_object(self, pk):
        raise NotImplementedError

    def resolve(self, obj, resolution):
        raise NotImplementedError

    def success_message(self, obj, resolution):
        raise NotImplementedError

    def fallback_url(self):
        raise NotImplementedError

    def post(self, request, pk):
        obj = self.get_object(pk)
        resolution = request.POST.get("resolution", "")
        redirect_to = get_valid_next_url_from_request(request) or self.fallback_url()
        if resolution not in self.resolutions:
            messages.error(request, gettext("Choose how to resolve it."))
            return HttpResponseRedirect(redirect_to)
        try:
            self.resolve(obj, resolution)
        except (ValidationError, ValueError) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, message)
            return HttpResponseRedirect(redirect_to)
        messages.success(
            request,
            self.success_message(obj, resolution),
            buttons=[messages.button(self.vehicle_url(self.vehicle_of(obj)), gettext("View vehicle"))],
        )
        return HttpResponseRedirect(redirect_to)


class ResolveConflictView(ResolveView):
    resolutions = tuple(VehicleConflict.EDITOR_RESOLUTIONS)

    def get_object(self, pk):
        conflict = get_scoped_object_or_404(VehicleConflict, self.request.user, pk=pk)
        return conflict

    def vehicle_of(self, conflict):
        return conflict.vehicle

    def resolve(self, conflict, resolution):
        resolve_conflict(conflict, resolution, self.request.user)
        log(
            conflict.vehicle,
            f"wagtail_easycars.conflict.{resolution}",
            user=self.request.user,
            data={"field": conflict.field, "field_label": field_label(Vehicle, conflict.field, sentence=True)},
        )

    def fallback_url(self):
        return reverse(self.conflicts_url_name)

    def success_message(self, conflict, resolution):
        label = field_label(Vehicle, conflict.field, sentence=True)
        if resolution == VehicleConflict.Resolution.ACCEPT_EASYCARS:
            return gettext("'%(vehicle)s': %(field)s now has the EasyCars value.") % {
                "vehicle": conflict.vehicle,
                "field": label,
            }
        return gettext("'%(vehicle)s': kept the local %(field)s.") % {"vehicle": conflict.vehicle, "field": label}


class ResolveDuplicateView(ResolveView):
    resolutions = (PotentialDuplicate.Resolution.MERGED, PotentialDuplicate.Resolution.KEPT_SEPARATE)

    def get_object(self, pk):
        return get_scoped_object_or_404(PotentialDuplicate, self.request.user, pk=pk)

    def vehicle_of(self, duplicate):
        return duplicate.easycars_vehicle

    def resolve(self, duplicate, resolution):
        resolve_duplicate(duplicate, resolution, self.request.user)
        action = "merge" if resolution == PotentialDuplicate.Resolution.MERGED else "keep_separate"
        pair = (
            (duplicate.manual_vehicle, duplicate.easycars_vehicle),
            (duplicate.easycars_vehicle, duplicate.manual_vehicle),
        )
        for vehicle, other in pair:
            log(vehicle, f"wagtail_easycars.duplicate.{action}", user=self.request.user, data={"other": str(other)})

    def fallback_url(self):
        return reverse(self.duplicates_url_name)

    def success_message(self, duplicate, resolution):
        if resolution == PotentialDuplicate.Resolution.MERGED:
            return gettext("'%(manual)s' was merged into '%(easycars)s'.") % {
                "manual": duplicate.manual_vehicle,
                "easycars": duplicate.easycars_vehicle,
            }
        return gettext("'%(manual)s' and '%(easycars)s' are kept as separate vehicles.") % {
            "manual": duplicate.manual_vehicle,
            "easycars": duplicate.easycars_vehicle,
        }


class UnlockFieldView(SyncExtrasMixin, PermissionCheckedMixin, View):
    """POST ``field``: let EasyCars manage a locked field of a vehicle again (from the next sync on)."""

    http_method_names = ["post"]
    permission_required = "change"
    index_url_name = None
    breadcrumbs_items = []

    def post(self, request, pk):
        vehicle = get_scoped_object_or_404(Vehicle, request.user, pk=pk)
        field = request.POST.get("field", "")
        redirect_to = get_valid_next_url_from_request(request) or self.vehicle_url(vehicle)
        if field not in (vehicle.locked_fields or []):
            messages.error(request, gettext("That field is not locked."))
            return HttpResponseRedirect(redirect_to)
        if open_conflicts().filter(vehicle=vehicle, field=field).exists():
            messages.error(request, gettext("Resolve the open conflict of this field instead."))
            return HttpResponseRedirect(redirect_to)
        unlock_fields(vehicle, [field])
        label = field_label(Vehicle, field, sentence=True)
        log(vehicle, "wagtail_easycars.vehicle.unlock", user=request.user, data={"field": field, "field_label": label})
        messages.success(
            request,
            gettext("'%(vehicle)s': %(field)s is managed by EasyCars again; the next sync updates it.")
            % {"vehicle": vehicle, "field": label},
        )
        return HttpResponseRedirect(redirect_to)
