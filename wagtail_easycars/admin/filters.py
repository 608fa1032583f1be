"""List filters for the vehicle and lead snippets (django-filter, the Wagtail way).

Choices that come from the data (dealerships, makes) are computed from the requesting user's
dealerships only, so a filter never discloses another dealership's names or makes.
"""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet

from ..models import Lead, PotentialDuplicate, Vehicle, VehicleConflict
from .access import dealerships_for, scope_queryset


def _dealership_choices(request):
    if request is None:
        return dealerships_for(None)
    return dealerships_for(request.user)


class DealershipFilterMixin:
    """Shows the dealership filter only to users who can see more than one dealership."""

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is None or _dealership_choices(request)[:2].count() < 2:
            self.filters.pop("dealership", None)


class VehicleSyncState:
    SYNCED = "synced"
    NEVER_SYNCED = "never_synced"
    LOCKED = "locked"
    HAS_CONFLICTS = "has_conflicts"
    POTENTIAL_DUPLICATE = "potential_duplicate"

    choices = [
        (SYNCED, _("Synced from EasyCars")),
        (NEVER_SYNCED, _("Not from EasyCars")),
        (LOCKED, _("Has locked fields")),
        (HAS_CONFLICTS, _("Has open conflicts")),
        (POTENTIAL_DUPLICATE, _("Potential duplicate")),
    ]


def open_conflicts():
    return VehicleConflict.objects.filter(resolved_at__isnull=True)


def open_duplicates():
    return PotentialDuplicate.objects.filter(resolution=PotentialDuplicate.Resolution.OPEN)


class VehicleFilterSet(DealershipFilterMixin, WagtailFilterSet):
    dealership = django_filters.ModelChoiceFilter(label=_("Dealership"), queryset=_dealership_choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Vehicle.Status.choices)
    condition = django_filters.ChoiceFilter(label=_("Condition"), choices=Vehicle.Condition.choices)
    make = django_filters.ChoiceFilter(label=_("Make"), choices=[])
    data_source = django_filters.ChoiceFilter(
        label=_("Data source"), choices=Vehicle._meta.get_field("data_source").choices
    )
    sync_state = django_filters.ChoiceFilter(
        label=_("Sync state"), choices=VehicleSyncState.choices, method="filter_sync_state"
    )

    class Meta:
        model = Vehicle
        fields = ["dealership", "status", "condition", "make", "data_source", "sync_state"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is not None:
            makes = (
                scope_queryset(Vehicle.objects.exclude(make=""), request.user)
                .order_by("make")
                .values_list("make", flat=True)
                .distinct()
            )
            self.filters["make"].extra["choices"] = [(make, make) for make in makes]

    def filter_sync_state(self, queryset, name, value):
        if value == VehicleSyncState.SYNCED:
            return queryset.filter(last_synced_from_easycars__isnull=False)
        if value == VehicleSyncState.NEVER_SYNCED:
            return queryset.filter(last_synced_from_easycars__isnull=True)
        if value == VehicleSyncState.LOCKED:
            # An empty JSON list is the only "unlocked" value; this works on SQLite and PostgreSQL.
            return queryset.exclude(Q(locked_fields=[]) | Q(locked_fields__isnull=True))
        if value == VehicleSyncState.HAS_CONFLICTS:
            return queryset.filter(Exists(open_conflicts().filter(vehicle=OuterRef("pk"))))
        if value == VehicleSyncState.POTENTIAL_DUPLICATE:
            duplicates = open_duplicates()
            return queryset.filter(
                Exists(duplicates.filter(manual_vehicle=OuterRef("pk")))
                | Exists(duplicates.filter(easycars_vehicle=OuterRef("pk")))
            )
        return queryset


class LeadFilterSet(DealershipFilterMixin, WagtailFilterSet):
    dealership = django_filters.ModelChoiceFilter(label=_("Dealership"), queryset=_dealership_choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Lead.Status.choices)
    sync_state = django_filters.ChoiceFilter(label=_("Sync state"), choices=Lead.SyncState.choices)
    data_source = django_filters.ChoiceFilter(label=_("Data source"), choices=Lead.DataSource.choices)

    class Meta:
        model = Lead
        fields = ["dealership", "status", "sync_state", "data_source"]


class ConflictFilterSet(DealershipFilterMixin, WagtailFilterSet):
    dealership = django_filters.ModelChoiceFilter(
        label=_("Dealership"), field_name="vehicle__dealership", queryset=_dealership_choices
    )

    class Meta:
        model = VehicleConflict
        fields = ["dealership"]


class DuplicateFilterSet(DealershipFilterMixin, WagtailFilterSet):
    dealership = django_filters.ModelChoiceFilter(label=_("Dealership"), queryset=_dealership_choices)
    reason = django_filters.ChoiceFilter(label=_("Reason"), choices=PotentialDuplicate.Reason.choices)

    class Meta:
        model = PotentialDuplicate
        fields = ["dealership", "reason"]
